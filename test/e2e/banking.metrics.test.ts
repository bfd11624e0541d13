/**
 * The banking example's operations endpoints, as an operator sees them: two pod processes serve
 * `GET /health` and `GET /metrics`; while traffic runs, the scraped job counters move, and once
 * it settles they match the store: each pod's `atomic_queues_jobs_completed_total` is the number
 * of ledger rows that pod wrote (one per job), and the failed jobs are the 409 answers.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { PodFleet, type PodProcess } from '../../examples/banking/demo/pod-fleet';
import {
  driveTraffic,
  planTraffic,
  type OperationResult,
} from '../../examples/banking/demo/traffic';
import { waitFor } from '../../support/async';
import { cleanPrefix, newRedis, redisUrl } from '../helpers/redis';
import { tempStore } from './banking-fixture';

const ACCOUNTS = ['alice', 'bob', 'carol', 'dave'];

/** One scrape: `name{labels}` → value, as Prometheus would read the text. */
async function scrape(pod: PodProcess): Promise<Map<string, number>> {
  const res = await fetch(`${pod.url}/metrics`, { signal: AbortSignal.timeout(10_000) });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain;.*version=0\.0\.4/);
  const series = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    series.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return series;
}

const series = (name: string): string => `${name}{type="account"}`;
const COMPLETED = series('atomic_queues_jobs_completed_total');
const FAILED = series('atomic_queues_jobs_failed_total');

interface PodCounts {
  completed: number;
  failed: number;
  durationCount: number;
  waitCount: number;
}

async function counts(pod: PodProcess): Promise<PodCounts> {
  const s = await scrape(pod);
  return {
    completed: s.get(COMPLETED) ?? 0,
    failed: s.get(FAILED) ?? 0,
    durationCount: s.get(series('atomic_queues_job_duration_seconds_count')) ?? 0,
    waitCount: s.get(series('atomic_queues_job_wait_seconds_count')) ?? 0,
  };
}

describe('banking example: /health and /metrics under traffic', () => {
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const keyPrefix = `banking_metrics_${runId}`;
  const fixture = tempStore(Object.fromEntries(ACCOUNTS.map((a) => [a, 300])));
  const store = fixture.store;
  let fleet: PodFleet;
  let pods: PodProcess[];

  before(async () => {
    fleet = new PodFleet({
      ...process.env,
      REDIS_URL: redisUrl(),
      BANKING_STORE: fixture.path,
      BANKING_KEY_PREFIX: keyPrefix,
      BANKING_STORE_LATENCY_MS: '2',
      // No outbox relay: every job is one the traffic caused, so counts are exact.
      BANKING_OUTBOX_MS: '0',
    });
    pods = await Promise.all([fleet.start('pod-1'), fleet.start('pod-2')]);
  });

  after(async () => {
    await fleet?.stopAll();
    const redis = newRedis();
    await cleanPrefix(redis, keyPrefix);
    await redis.quit();
    fixture.remove();
  });

  /** Sends traffic; resolves once every transfer it debited is credited. */
  async function traffic(n: number, from: number): Promise<OperationResult[]> {
    const plan = planTraffic({
      operations: n,
      accounts: ACCOUNTS,
      seed: from,
      maxAmount: 120,
      runId: `${runId}-${from}`,
    });
    const results = await driveTraffic(plan, pods, {
      concurrency: 4,
      deadline: Date.now() + 60_000,
      requestTimeoutMs: 30_000,
    });
    const unexpected = results.filter((r) => r.status !== 200 && r.status !== 409);
    assert.deepEqual(unexpected, [], 'every request answered 200 or 409');
    await waitFor(() => store.pendingTransfers().length === 0, {
      timeoutMs: 30_000,
      message: 'every debited transfer credited',
    });
    return results;
  }

  /** The counters of each pod equal what the store shows that pod did. */
  async function assertMatchesStore(rejected: number): Promise<number> {
    // A handler writes its ledger row before its job's completion is stored, and the counter
    // moves once it is (a transfer's credit leg, which no request awaits, may still be on its
    // way): wait for the counts to settle, then compare.
    let scraped = await Promise.all(pods.map(counts));
    const settled = (): boolean => {
      const rows = store.ledger();
      return (
        pods.every(
          (pod, i) => scraped[i].completed === rows.filter((r) => r.pod === pod.name).length,
        ) && scraped.reduce((sum, c) => sum + c.failed, 0) === rejected
      );
    };
    await waitFor(
      async () => {
        scraped = await Promise.all(pods.map(counts));
        return settled();
      },
      { timeoutMs: 10_000, message: 'the counters caught up with the ledger' },
    ).catch(() => undefined); // the assertions below say what differs
    const ledger = store.ledger();
    pods.forEach((pod, i) => {
      const c = scraped[i];
      const rows = ledger.filter((row) => row.pod === pod.name).length;
      assert.equal(c.completed, rows, `${pod.name}: completed jobs = its ledger rows`);
      assert.equal(c.durationCount, c.completed + c.failed, `${pod.name}: one duration per job`);
      assert.equal(c.waitCount, c.completed + c.failed, `${pod.name}: one wait per job`);
    });
    assert.equal(
      scraped.reduce((sum, c) => sum + c.failed, 0),
      rejected,
      'failed jobs = 409 answers',
    );
    return scraped.reduce((sum, c) => sum + c.completed, 0);
  }

  test('GET /health answers 200 with the queues up', async () => {
    for (const pod of pods) {
      const res = await fetch(`${pod.url}/health`, { signal: AbortSignal.timeout(10_000) });
      const body = (await res.json()) as { status: string; info: { queues: { status: string } } };
      assert.equal(res.status, 200, JSON.stringify(body));
      assert.equal(body.status, 'ok');
      assert.equal(body.info.queues.status, 'up');
    }
  });

  test('the counters move while traffic runs and match the ledger', async () => {
    for (const pod of pods) assert.equal((await counts(pod)).completed, 0);

    const first = await traffic(120, 1);
    let rejected = first.filter((r) => r.status === 409).length;
    const mid = await assertMatchesStore(rejected);
    assert.ok(mid > 0, 'jobs completed');
    assert.ok(rejected > 0, 'some operations were refused (insufficient funds)');

    // Scrape while the second half runs: the total must grow before the traffic is over.
    let done = false;
    const second = traffic(200, 2).finally(() => (done = true));
    const seen: number[] = [];
    let movedDuringTraffic = false;
    await waitFor(
      async () => {
        const total = (await Promise.all(pods.map(counts))).reduce((s, c) => s + c.completed, 0);
        seen.push(total);
        if (total > mid && !done) movedDuringTraffic = true;
        return movedDuringTraffic || done;
      },
      { timeoutMs: 60_000, intervalMs: 20, message: 'a scrape during the traffic' },
    );
    const results = await second;
    assert.ok(movedDuringTraffic, `the counters moved during the traffic: ${seen.join(', ')}`);
    assert.deepEqual(
      seen,
      [...seen].sort((a, b) => a - b),
      'counters never go down',
    );

    rejected += results.filter((r) => r.status === 409).length;
    const final = await assertMatchesStore(rejected);
    assert.ok(final > mid);
    // Every applied operation is one ledger row, written by one job.
    assert.equal(final, store.ledger().length);
  });
});
