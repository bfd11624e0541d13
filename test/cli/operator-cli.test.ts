/**
 * The operator's CLI (`atomic-queues`, build/src/cli/main.js), run as a child process against a
 * real Redis where two pod processes hold entities: a busy one (a job running, four waiting),
 * one with failed jobs, one paused. Each command's `--json` is checked against what Redis holds,
 * read directly; the tables are smoke-checked; a wrong URL and a wrong prefix exit 2 with one
 * line; 2,500 entities come back exactly once over pages of 1,000; and on a Redis Cluster,
 * `entities` and `inspect` see an entity held by an engine there.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Cluster } from 'ioredis';
import { AtomicEngine, type JobContext } from '../../src';
import { startLocalRedisCluster } from '../../scripts/local-redis';
import { waitFor } from '../../support/async';
import { enginePrefix } from '../fixtures/engines';
import { multiPodSuite } from '../fixtures/multi-pod-suite';
import { leaseKey, queueCounts, queueKey, scanKeys } from '../fixtures/queue-state';
import { cleanPrefix, redisUrl } from '../helpers/redis';

const CLI = path.join(__dirname, '..', '..', 'src', 'cli', 'main.js');
const TYPE = 'account';
/** How long the first job of a busy entity runs: longer than the whole test. */
const LONG_MS = 120_000;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { timeout: 30_000, env: { ...process.env, ...env } },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Runs a command with `--json` and parses its output; fails on a non-zero exit. */
async function json<T = any>(args: readonly string[]): Promise<T> {
  const run = await cli([...args, '--json']);
  assert.equal(run.code, 0, `atomic-queues ${args.join(' ')}: ${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}

describe('atomic-queues CLI', () => {
  const { prefix, redis, fleet } = multiPodSuite('cli');
  const conn = (): string[] => ['--redis', redisUrl(), '--prefix', prefix];
  /** When the busy entity's jobs were enqueued: before the request and after its reply. */
  let busySentAt = 0;
  let busyStoredAt = 0;

  const lease = async (id: string): Promise<string | null> =>
    redis.hget(leaseKey(prefix, TYPE, id), 'p');
  const failedIds = (id: string): Promise<string[]> =>
    redis.zrange(queueKey(prefix, TYPE, id, 'failed'), 0, -1);

  before(async () => {
    const [p1] = await fleet.startMany([
      { podId: 'p1', delayMs: 0, idleTimeoutSeconds: 120, maxLifetimeMs: 180_000 },
      { podId: 'p2', delayMs: 0, idleTimeoutSeconds: 120, maxLifetimeMs: 180_000 },
    ]);
    const bulk = async (entity: string, data: unknown[]): Promise<void> => {
      const reply = await p1.request({ type: 'enqueueBulk', entity, name: 'inc', data });
      assert.ok(reply.ok, reply.error?.message);
    };
    busySentAt = Date.now();
    await bulk('busy', [{ delayMs: LONG_MS }, {}, {}, {}, {}]);
    busyStoredAt = Date.now();
    await bulk('busy2', [{ delayMs: LONG_MS }, {}]);
    const boom = (n: number) => ({ fail: { name: 'Error', message: `boom ${n}` } });
    await bulk('bad', [boom(1), boom(2)]);
    await waitFor(
      async () =>
        (await queueCounts(redis, prefix, TYPE, 'busy')).active >= 1 &&
        (await queueCounts(redis, prefix, TYPE, 'busy2')).active >= 1 &&
        (await failedIds('bad')).length === 2,
      { timeoutMs: 20_000, message: 'busy entities running, two failed jobs of bad' },
    );
  });

  it('pauses an entity, lists it paused with its waiting jobs, drains and resumes it', async () => {
    const paused = await json(['pause', TYPE, 'calm', ...conn()]);
    assert.equal(paused.action, 'paused');
    assert.equal(paused.entity.paused, true);
    assert.equal(paused.entity.state, 'paused');
    assert.equal(await redis.hexists(queueKey(prefix, TYPE, 'calm', 'meta'), 'paused'), 1);

    const sentAt = Date.now();
    const reply = await fleet.pods[0].request({
      type: 'enqueueBulk',
      entity: 'calm',
      name: 'inc',
      data: [{}, {}, {}],
    });
    const storedAt = Date.now();
    assert.ok(reply.ok);
    const startedAt = Date.now();
    const page = await json(['entities', '--limit', '1000', ...conn()]);
    const endedAt = Date.now();
    const calm = page.items.find((e: any) => e.entityId === 'calm');
    assert.ok(calm, `calm listed: ${JSON.stringify(page.items)}`);
    assert.equal(calm.state, 'paused');
    assert.deepEqual([calm.backlog, calm.waiting], [3, 3]);
    // Its next job waits since its enqueue, between sentAt and storedAt (Redis's clock is this
    // machine's).
    assert.ok(calm.oldestWaitingMs >= startedAt - storedAt - 50, `age ${calm.oldestWaitingMs}`);
    assert.ok(calm.oldestWaitingMs <= endedAt - sentAt + 50, `age ${calm.oldestWaitingMs}`);
    assert.equal((await queueCounts(redis, prefix, TYPE, 'calm')).wait, 3);

    const drained = await json(['drain', TYPE, 'calm', ...conn()]);
    assert.equal(drained.entity.backlog, 0);
    assert.equal((await queueCounts(redis, prefix, TYPE, 'calm')).wait, 0);

    const resumed = await json(['resume', TYPE, 'calm', ...conn()]);
    assert.equal(resumed.entity.paused, false);
    assert.equal(await redis.hexists(queueKey(prefix, TYPE, 'calm', 'meta'), 'paused'), 0);
  });

  it('lists entities with state, holder, backlog and wait, as Redis holds them', async () => {
    const startedAt = Date.now();
    const page = await json(['entities', '--limit', '1000', ...conn()]);
    const endedAt = Date.now();
    assert.equal(page.cursor, null);
    const byId = new Map<string, any>(page.items.map((e: any) => [e.entityId, e]));
    for (const id of ['busy', 'busy2', 'bad']) {
      const e = byId.get(id);
      assert.ok(e, `${id} listed`);
      const counts = await queueCounts(redis, prefix, TYPE, id);
      assert.equal(e.entityType, TYPE);
      assert.equal(e.pod, await lease(id), `${id}: holder`);
      assert.ok(['p1', 'p2'].includes(e.pod), `${id} held by a pod`);
      assert.equal(e.state, 'held');
      assert.equal(e.waiting, counts.wait + counts.prioritized);
      assert.equal(e.active, counts.active);
      assert.equal(e.failed, counts.failed);
      assert.equal(e.backlog, counts.wait + counts.prioritized + counts.active + counts.delayed);
    }
    assert.deepEqual(
      [byId.get('busy').backlog, byId.get('busy2').backlog, byId.get('bad').backlog],
      [5, 2, 0],
    );
    assert.equal(byId.get('bad').failed, 2);
    // A runner takes a batch of jobs into active: whatever still waits was enqueued by then.
    for (const id of ['busy', 'busy2']) {
      const age = byId.get(id).oldestWaitingMs as number | null;
      if (byId.get(id).waiting === 0) assert.equal(age, null);
      else {
        assert.ok(age !== null && age >= startedAt - busyStoredAt - 50, `age ${age}`);
        assert.ok(age <= endedAt - busySentAt + 50, `age ${age}`);
      }
    }
    assert.equal(byId.get('bad').oldestWaitingMs, null);
    // Sorted by backlog, largest first.
    const backlogs = page.items.map((e: any) => e.backlog as number);
    assert.deepEqual(
      backlogs,
      [...backlogs].sort((a, b) => b - a),
    );

    const table = await cli(['entities', ...conn()]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^TYPE +ID +STATE +POD +BACKLOG/);
    assert.match(table.stdout, /\naccount +busy +held +p[12] +5 +\d +\d +0 +0 +(-|\d)/);
    assert.match(table.stdout, /entities \(last page\)\n$/);
  });

  it('inspects an entity: lease, fencing token, backlog, failed jobs', async () => {
    const busy = await json(['inspect', TYPE, 'busy', ...conn()]);
    const fence = await redis.get(queueKey(prefix, TYPE, 'busy', '__aq:fence'));
    assert.equal(busy.lease.pod, await lease('busy'));
    assert.ok(busy.lease.ttlMs > 0, `ttl ${busy.lease.ttlMs}`);
    assert.equal(busy.fencingToken, Number(fence));
    assert.equal(busy.queueName, `{${TYPE}-busy-queue}`);
    assert.equal(busy.backlog, 5);
    assert.equal(busy.failedJobs.total, 0);

    const bad = await json(['inspect', TYPE, 'bad', ...conn()]);
    assert.deepEqual(
      bad.failedJobs.items.map((j: any) => [j.id, j.failedReason]),
      (await failedIds('bad')).map((id, i) => [id, `boom ${i + 1}`]),
    );
    assert.equal(bad.failed, 2);

    const table = await cli(['inspect', TYPE, 'bad', ...conn()]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /fencing token: +\d+/);
    assert.match(table.stdout, /Failed jobs \(2 of 2, oldest first\):\nJOB +NAME/);
  });

  it('lists the entities with failed jobs and retries them', async () => {
    const all = await json(['failed', ...conn()]);
    const shown = JSON.stringify(all);
    assert.deepEqual(
      all.types.map((t: any) => [t.entityType, t.total, t.entities.map((e: any) => e.entityId)]),
      [[TYPE, 1, ['bad']]],
      shown,
    );
    assert.equal(all.types[0].entities[0].failedJobs, 2, shown);
    assert.deepEqual(await json(['failed', TYPE, ...conn()]), all);

    const [first, second] = await failedIds('bad');
    const one = await json(['retry', TYPE, 'bad', first, 'nope', ...conn()]);
    assert.deepEqual(
      [one.retried, one.notFound, one.remaining],
      [[first], ['nope'], 1],
      JSON.stringify(one),
    );
    // It runs again (and fails again: its data says so).
    let seen = {};
    await waitFor(
      async () => {
        seen = { ...(await queueCounts(redis, prefix, TYPE, 'bad')), holder: await lease('bad') };
        return (await failedIds('bad')).length === 2;
      },
      {
        timeoutMs: 10_000,
        message: () => `the retried job failed again; bad: ${JSON.stringify(seen)}`,
      },
    );
    const rest = await json(['retry', TYPE, 'bad', '--all', ...conn()]);
    assert.deepEqual([...rest.retried].sort(), [first, second].sort(), JSON.stringify(rest));
    assert.equal(rest.notFound.length, 0);

    const usage = await cli(['retry', TYPE, 'bad', ...conn()]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /needs either job ids or --all/);
  });

  it('lists the pods of the registry with their held counts', async () => {
    // What each pod holds, by the leases themselves. Entities may move meanwhile (rebalancing):
    // the CLI's answer counts only when the leases were the same just before and just after it,
    // and the registry (beaten by the pods) has caught up with them.
    const heldByLeases = async (): Promise<string> => {
      const leases = await scanKeys(redis, prefix, '*__aq:lease');
      const holders = await Promise.all(leases.map((k) => redis.hget(k, 'p')));
      return JSON.stringify(['p1', 'p2'].map((p) => holders.filter((h) => h === p).length));
    };
    let pods: any;
    let seen = '';
    await waitFor(
      async () => {
        const before = await heldByLeases();
        pods = await json(['pods', ...conn()]);
        const after = await heldByLeases();
        seen = `leases ${before} then ${after}, CLI ${JSON.stringify(pods.items)}`;
        if (before !== after) return false;
        assert.deepEqual(
          pods.items.map((p: any) => [p.podId, p.processing]),
          [
            ['p1', true],
            ['p2', true],
          ],
        );
        return JSON.stringify(pods.items.map((p: any) => p.held)) === before;
      },
      { timeoutMs: 15_000, intervalMs: 200, message: () => `the CLI counts the leases: ${seen}` },
    );
    for (const p of pods.items) assert.ok(p.lastBeatMsAgo < 5_000, `${p.podId} beat recently`);

    const table = await cli(['pods', ...conn()]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^POD +PROCESSING +HELD +LAST BEAT\np1 +yes +\d+ +\d+m?s/);
    fleet.passed();
  });

  it('says in one line, exit 2, that Redis is unreachable or the prefix holds nothing', async () => {
    const unreachable = await cli([
      'entities',
      '--redis',
      'redis://127.0.0.1:1',
      '--timeout',
      '500',
    ]);
    assert.equal(unreachable.code, 2);
    assert.match(unreachable.stderr, /^atomic-queues: Cannot connect to Redis at 127\.0\.0\.1:1: /);
    assert.equal(unreachable.stderr.trim().split('\n').length, 1);
    assert.equal(unreachable.stdout, '');

    const wrong = `${prefix}_nothing`;
    const empty = await cli(['entities', '--prefix', wrong], { REDIS_URL: redisUrl() });
    assert.equal(empty.code, 2);
    assert.match(
      empty.stderr,
      new RegExp(`^atomic-queues: No atomic-queues data under prefix "${wrong}"`),
    );
    assert.match(empty.stderr, /looked for pods in .*:\{__aq\}:pods/);
    assert.equal(empty.stderr.trim().split('\n').length, 1);
    // The CLI's own pod entry went with it: nothing is left under the wrong prefix.
    assert.deepEqual(await scanKeys(redis, wrong, '*'), []);
  });

  it('pages through 2,500 entities, each exactly once', async () => {
    const pagingPrefix = enginePrefix('cliPaging');
    after(() => cleanPrefix(redis, pagingPrefix));
    const producer = new AtomicEngine({
      redis: redisUrl(),
      keyPrefix: pagingPrefix,
      processing: false,
      entities: { [TYPE]: {} },
    });
    await producer.start();
    const ids = Array.from({ length: 2500 }, (_, i) => `e${i}`);
    await producer.enqueueBulk(
      ids.map((id) => ({ type: TYPE, entityId: id, name: 'inc', data: {} })),
    );
    await producer.stop();

    const seen: string[] = [];
    let cursor: string | null = '0';
    let pages = 0;
    while (cursor !== null) {
      const page: any = await json([
        'entities',
        '--limit',
        '1000',
        '--cursor',
        cursor,
        '--redis',
        redisUrl(),
        '--prefix',
        pagingPrefix,
      ]);
      pages += 1;
      assert.ok(page.items.length <= 1100, `page of ${page.items.length}`);
      for (const e of page.items) {
        assert.equal(e.state, 'waiting');
        assert.equal(e.backlog, 1);
        seen.push(e.entityId);
      }
      cursor = page.cursor;
      assert.ok(pages <= 5, 'at most five pages');
    }
    assert.ok(pages >= 3, `${pages} pages`);
    assert.equal(seen.length, 2500);
    assert.deepEqual([...seen].sort(), [...ids].sort());
  });

  it('shows entities and inspects one on a Redis Cluster', async () => {
    const cluster = await startLocalRedisCluster(3);
    const clients: Cluster[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const tokens: number[] = [];
    const clusterPrefix = enginePrefix('cliCluster');
    const engine = new AtomicEngine({
      redis: (clients[clients.length] = new Cluster([...cluster.nodes])),
      keyPrefix: clusterPrefix,
      podId: 'k1',
      entities: { acct: { idleTimeoutSeconds: 60 } },
    });
    const errors: string[] = [];
    engine.on('error', (err: Error, context: string) => errors.push(`${context}: ${err.message}`));
    try {
      engine.registerHandler('acct', async (_job, ctx: JobContext) => {
        if (ctx.entityId === 'c1') {
          tokens.push(ctx.fencingToken);
          await gate;
        }
      });
      await engine.start();
      await engine.enqueueBulk(
        ['c1', 'c1', 'c1', 'c2', 'c3'].map((id) => ({
          type: 'acct',
          entityId: id,
          name: 'j',
          data: {},
        })),
      );
      await waitFor(() => tokens.length === 1, { timeoutMs: 10_000, message: 'c1 running' });
      const node = cluster.nodes[0];
      const url = `redis://${node.host}:${node.port}`;
      // Detected from INFO cluster.
      const page = await json(['entities', '--redis', url, '--prefix', clusterPrefix]);
      const c1 = page.items.find((e: any) => e.entityId === 'c1');
      assert.deepEqual([c1.state, c1.pod, c1.backlog], ['held', 'k1', 3]);
      assert.ok(c1.active >= 1);
      assert.deepEqual(page.items.map((e: any) => e.entityId).sort(), ['c1', 'c2', 'c3']);
      const inspected = await json([
        'inspect',
        'acct',
        'c1',
        '--cluster',
        '--redis',
        url,
        '--prefix',
        clusterPrefix,
      ]);
      assert.equal(inspected.lease.pod, 'k1');
      assert.equal(inspected.fencingToken, tokens[0]);
      assert.deepEqual(errors, []);
    } finally {
      release();
      await engine.stop();
      for (const c of clients) c.disconnect();
      await cluster.stop();
    }
  });
});
