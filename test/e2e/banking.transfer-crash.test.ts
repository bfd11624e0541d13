// A pod SIGKILLed between a transfer's debit and its credit: after another pod takes the source
// account over, the credit is applied exactly once and the source is debited exactly once.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { PodFleet } from '../../examples/banking/demo/pod-fleet';
import { cleanPrefix, newRedis, redisUrl, uniquePrefix } from '../helpers/redis';
import { waitFor } from '../../support/async';
import { post, tempStore } from './banking-fixture';

describe('transfer survives a pod killed between debit and credit', () => {
  let redis: Redis;
  let fleet: PodFleet | undefined;
  let fixture: ReturnType<typeof tempStore> | undefined;
  const prefixes: string[] = [];

  before(() => {
    redis = newRedis();
  });
  afterEach(async () => {
    await fleet?.stopAll();
    fixture?.remove();
  });
  after(async () => {
    for (const p of prefixes) await cleanPrefix(redis, p);
    await redis.quit();
  });

  /** Two pods: pod-1 dies right after debiting `transferId`, pod-2 is healthy. */
  async function crashAfterDebit(transferId: string, outboxIntervalMs: number) {
    fixture = tempStore({ alice: 100, bob: 0 });
    const prefix = uniquePrefix('bankingcrash');
    prefixes.push(prefix);
    fleet = new PodFleet({
      ...process.env,
      REDIS_URL: redisUrl(),
      BANKING_STORE: fixture.path,
      BANKING_KEY_PREFIX: prefix,
      BANKING_HEARTBEAT_TTL: '1',
      BANKING_OUTBOX_MS: String(outboxIntervalMs),
    });
    const doomed = await fleet.start('pod-1', { BANKING_CRASH_AFTER_DEBIT: transferId });
    await fleet.start('pod-2');

    // pod-1 enqueues the transfer, claims alice (free) and runs it: debit, then SIGKILL.
    await assert.rejects(
      post(`${doomed.url}/accounts/alice/transfer`, { to: 'bob', amount: 30, transferId }),
      'the request dies with pod-1',
    );
    const how = await Promise.race([
      doomed.exited,
      new Promise((resolve) => setTimeout(resolve, 10_000, 'still running')),
    ]);
    assert.equal(how, 'SIGKILL', 'pod-1 killed itself after the debit');
    const store = fixture.store;
    assert.equal(store.account('alice')?.balance, 70, 'the debit was committed');
    assert.equal(store.transfer(transferId)?.creditedAt, null, 'the credit was not applied');
    assert.equal(store.account('bob')?.balance, 0);

    await waitFor(() => store.transfer(transferId)?.creditedAt != null, {
      timeoutMs: 20_000,
      message: `transfer ${transferId} credited after pod-1 died`,
    });
    // Barrier: jobs of one account run in order, so once a deposit enqueued now to alice is
    // done, the re-run transfer job is done (and its credit enqueued); then the same for bob.
    const survivor = fleet.pods[1].url;
    for (const account of ['alice', 'bob']) {
      const res = await post(`${survivor}/accounts/${account}/deposit`, { amount: 1 });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    }
    return store;
  }

  test('the transfer job re-runs on the surviving pod: no second debit, one credit', async () => {
    const store = await crashAfterDebit('t-takeover', 0);
    const rows = store.ledger().filter((l) => l.operationId.startsWith('transfer:t-takeover:'));
    assert.deepEqual(rows.map((l) => [l.kind, l.accountId, l.amount, l.pod]).sort(), [
      ['transfer-credit', 'bob', 30, 'pod-2'],
      ['transfer-debit', 'alice', -30, 'pod-1'],
    ]);
    assert.equal(store.account('alice')?.balance, 71);
    assert.equal(store.account('bob')?.balance, 31);
  });

  test('with the outbox relay on too, the credit still lands exactly once', async () => {
    const store = await crashAfterDebit('t-relay', 200);
    const credits = store.ledger('bob').filter((l) => l.kind === 'transfer-credit');
    assert.deepEqual(
      credits.map((l) => l.operationId),
      ['transfer:t-relay:credit'],
    );
    assert.equal(store.ledger('alice').filter((l) => l.kind === 'transfer-debit').length, 1);
    assert.equal(store.account('alice')?.balance, 71);
    assert.equal(store.account('bob')?.balance, 31);
  });
});
