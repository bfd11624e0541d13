// The banking example as several pod processes (the demo launcher, with small numbers): money is
// conserved and no balance ever goes negative, through the library; without it, the same traffic
// drifts, which shows the checks can fail.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { renderReport } from '../../examples/banking/demo/report';
import { runDemo } from '../../examples/banking/demo/run-demo';
import { redisUrl } from '../helpers/redis';

describe('banking example as 3 pod processes', () => {
  test('concurrent withdrawals, deposits and transfers conserve money', async () => {
    const report = await runDemo({
      pods: 3,
      operations: 400,
      concurrency: 24,
      redisUrl: redisUrl(),
      deadlineMs: 90_000,
    });
    const text = renderReport(report);
    assert.equal(report.operations.errors, 0, text);
    assert.equal(report.operations.ok + report.operations.rejected, 400, text);
    assert.equal(report.transfers.pending, 0, text);
    assert.equal(report.money.actual, report.money.expected, text);
    assert.ok(report.conserved, text);
    assert.ok(report.lowest >= 0, text);
    assert.ok(report.balancesMatchLedger, text);
    assert.ok(report.ledgerMatchesAnswers, text);
    assert.ok(report.ok, text);
    assert.match(text, /\nmoney conserved: yes$/);
    assert.deepEqual(
      report.pods.map((p) => p.requests),
      [134, 133, 133],
      'requests are spread round robin',
    );
  });

  test('the same traffic without the library loses updates (the checks catch it)', async () => {
    const report = await runDemo({
      pods: 2,
      operations: 200,
      concurrency: 32,
      // Deposits only: every answered deposit must show up, so a lost update is certain to be
      // seen; the long read → write gap makes concurrent handlers overlap for sure.
      accounts: ['alice'],
      mix: { withdraw: 0, deposit: 1 },
      storeLatencyMs: 25,
      withoutLibrary: true,
      deadlineMs: 60_000,
    });
    const text = renderReport(report);
    assert.equal(report.operations.errors, 0, text);
    assert.ok(report.money.actual < report.money.expected, text);
    assert.equal(report.conserved, false, text);
    assert.equal(report.balancesMatchLedger, false, text);
    assert.equal(report.ok, false, text);
    assert.match(text, /\nmoney conserved: no$/);
  });
});
