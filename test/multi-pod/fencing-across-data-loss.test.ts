/**
 * G1 fencing when Redis loses its data: fencing tokens per entity keep growing across a Redis
 * restart without persistence, and across a failover to a replica that missed the last writes,
 * with no operator action.
 *
 * Two pods run on redis-servers of the test's own (no RDB, no AOF); their handler's fenced store
 * (counter-handler.ts) lives on another server, the test Redis, which keeps its data, and their
 * ledgers log every execution with its token. Before the loss, entities `a*` are claimed once
 * and entities `b*` three times (released in between), so their counters stood at 1 and 3 under
 * atomic-queues 1.x's INCR. Each then runs a long job; Redis loses its data while those run, and
 * every entity gets new jobs. Then, per entity:
 * - every token handed out after the loss is larger than every token handed out before;
 * - the long job still running from before the loss is refused by the store (its write would
 *   overwrite the new holders' effects, out of order);
 * - no new holder is refused (with the counter reset, a token below the store's highest).
 */
import assert from 'node:assert/strict';
import { after, describe, it, type TestContext } from 'node:test';
import { Redis } from 'ioredis';
import { startLocalRedis, type LocalRedis } from '../../scripts/local-redis';
import { redisUrl } from '../helpers/redis';
import { executionsOf, readLedger, waitForLedger, type LedgerRecord } from '../fixtures/ledger';
import { now } from '../fixtures/ledger-writer';
import { multiPodSuite } from '../fixtures/multi-pod-suite';
import { queueKey, readCounters } from '../fixtures/queue-state';
import { TcpProxy } from '../fixtures/tcp-proxy';

const TYPE = 'account';
const HEARTBEAT_TTL_S = 1;
/** Long enough that the new holders run before it ends. */
const LONG_MS = 8000;
/** Seqs of the jobs enqueued after the loss start here. */
const AFTER = 100;

const once = ['a0', 'a1'];
const thrice = ['b0', 'b1'];
const entities = [...once, ...thrice];
/** The seq of an entity's long job. */
const longSeq = (entity: string): number => (once.includes(entity) ? 0 : 2);

interface Loss {
  /** Where the pods and the producer connect. */
  url: string;
  /** After the first claim of `b*`: the state the lost data goes back to. */
  checkpoint?(): Promise<void>;
  /** Loses the data, while the long jobs run. */
  lose(): Promise<void>;
}

function has(records: readonly LedgerRecord[], event: string, entity: string, seq: number) {
  return records.some((r) => r.event === event && r.entity === entity && r.seq === seq);
}

function fenceKey(prefix: string, entity: string): string {
  return queueKey(prefix, TYPE, entity, '__aq:fence');
}

/** Runs the jobs around `loss` and checks every entity's tokens and store. */
async function acrossLoss(
  t: TestContext,
  suite: ReturnType<typeof multiPodSuite>,
  loss: Loss,
): Promise<void> {
  const { prefix, fleet, engines, redis } = suite;
  await fleet.startMany(
    ['pod1', 'pod2'].map((podId) => ({
      podId,
      redisUrl: loss.url,
      storeUrl: redisUrl(),
      delayMs: 50,
      heartbeatTTL: HEARTBEAT_TTL_S,
      cronInterval: 250,
      idleTimeoutSeconds: 1,
    })),
  );
  const producer = engines.create({
    redis: loss.url,
    processing: false,
    podId: 'producer',
    entities: { [TYPE]: {} },
  });
  await producer.start();
  const enqueue = (entity: string, seq: number, delayMs: number): Promise<string> =>
    producer.enqueue(TYPE, entity, 'increment', { seq, delayMs });

  // b*: two short jobs, each on a claim of its own (the entity is released in between).
  for (const seq of [0, 1]) {
    for (const entity of thrice) await enqueue(entity, seq, 50);
    await waitForLedger(
      () => fleet.ledgerFiles,
      (records) =>
        thrice.every((e) => {
          const done = records.find(
            (r) => r.event === 'completed' && r.entity === e && r.seq === seq,
          );
          return (
            done !== undefined &&
            records.some((r) => r.event === 'released' && r.entity === e && r.t > done.t)
          );
        }),
      { timeoutMs: 20_000, progress: () => `b* job ${seq} completed and released` },
    );
    if (seq === 0) await loss.checkpoint?.();
  }
  // Then a long job on every entity; Redis loses its data while they run.
  for (const entity of entities) await enqueue(entity, longSeq(entity), LONG_MS);
  await waitForLedger(
    () => fleet.ledgerFiles,
    (records) => entities.every((e) => has(records, 'start', e, longSeq(e))),
    { timeoutMs: 20_000, progress: () => 'every long job started' },
  );
  const lossAt = now();
  await loss.lose();
  t.diagnostic(`data lost, Redis back in ${(now() - lossAt).toFixed(0)} ms`);

  for (const entity of entities) {
    await enqueue(entity, AFTER, 50);
    await enqueue(entity, AFTER + 1, 50);
  }
  await waitForLedger(
    () => fleet.ledgerFiles,
    (records) =>
      entities.every(
        (e) =>
          has(records, 'completed', e, AFTER + 1) &&
          records.some((r) => r.event === 'end' && r.entity === e && r.seq === longSeq(e)),
      ),
    { timeoutMs: 40_000, progress: () => 'new jobs completed, long jobs ended' },
  );
  await fleet.stopAll();

  // Every finding, for one assertion that shows them all.
  const problems: string[] = [];
  const executions = executionsOf(readLedger(fleet.ledgerFiles));
  const counters = await readCounters(redis, prefix, entities);
  for (const entity of entities) {
    const mine = executions.filter((e) => e.entity === entity);
    const before = mine.filter((e) => e.seq < AFTER);
    const afterLoss = mine.filter((e) => e.seq >= AFTER);
    const long = before.find((e) => e.seq === longSeq(entity));
    assert.ok(long && afterLoss.length >= 2, `${entity}: ran its jobs`);
    const tokens = (list: typeof mine): string => list.map((e) => e.fencingToken).join(', ');
    t.diagnostic(`${entity}: tokens before [${tokens(before)}], after [${tokens(afterLoss)}]`);

    const highestBefore = Math.max(...before.map((e) => e.fencingToken));
    if (!afterLoss.every((e) => e.fencingToken > highestBefore))
      problems.push(
        `${entity}: a token after the loss (${tokens(afterLoss)}) is not larger than ` +
          `every token before (${tokens(before)})`,
      );
    // Meaningful only if the old job wrote after a new holder registered its token.
    const firstNew = Math.min(...afterLoss.map((e) => e.start));
    assert.ok(long.end > firstNew, `${entity}: the long job ended after a new holder began`);
    if (long.committed !== false)
      problems.push(`${entity}: the store accepted the write of the job from before the loss`);
    const refused = afterLoss.filter((e) => e.committed !== true);
    if (refused.length > 0)
      problems.push(`${entity}: the store refused new holders: ${tokens(refused)}`);
    // The store counts one write per committed execution: no update was overwritten.
    const committed = mine.filter((e) => e.committed).length;
    if (counters.get(entity) !== committed)
      problems.push(`${entity}: counter ${counters.get(entity)}, ${committed} writes committed`);
  }
  assert.deepEqual(problems, []);
}

describe('Redis restarted without its data', () => {
  const suite = multiPodSuite('fencingRestart');
  let server: LocalRedis | undefined;
  after(() => server?.stop());

  it(
    'tokens per entity keep growing: the old holder is refused, no new holder is',
    { timeout: 120_000 },
    async (t) => {
      server = await startLocalRedis();
      const local = server;
      await acrossLoss(t, suite, { url: local.url, lose: () => local.restart({ wipe: true }) });
      suite.fleet.passed();
    },
  );
});

describe('failover to a replica that missed the last writes', () => {
  const suite = multiPodSuite('fencingFailover');
  const servers: LocalRedis[] = [];
  const clients: Redis[] = [];
  let proxy: TcpProxy | undefined;
  after(async () => {
    await proxy?.close();
    for (const client of clients) client.disconnect();
    await Promise.all(servers.map((s) => s.stop()));
  });

  it(
    'tokens per entity keep growing: the old holder is refused, no new holder is',
    { timeout: 120_000 },
    async (t) => {
      const [master, replica] = await Promise.all([startLocalRedis(), startLocalRedis()]);
      servers.push(master, replica);
      const [onMaster, onReplica] = [master, replica].map((s) => new Redis(s.url));
      clients.push(onMaster, onReplica);
      await onReplica.replicaof('127.0.0.1', master.port);
      proxy = await TcpProxy.start(master.port);
      const { prefix } = suite;
      const fences = (client: Redis): Promise<(string | null)[]> =>
        client.mget(entities.map((e) => fenceKey(prefix, e)));
      const via = proxy;

      await acrossLoss(t, suite, {
        url: via.url,
        // The replica follows up to b*'s first claims, then stops following: it misses the rest.
        checkpoint: async () => {
          // WAIT: the replica has every write the master took so far (fences may move on: a
          // snapshot of them could be overtaken before the replica caught up with it).
          const acked = await onMaster.wait(1, 10_000);
          assert.equal(acked, 1, "the replica has b*'s first claims");
          await onReplica.replicaof('NO', 'ONE');
        },
        // The master dies; its address now leads to the promoted replica.
        lose: async () => {
          const [onM, onR] = await Promise.all([fences(onMaster), fences(onReplica)]);
          t.diagnostic(`fencing counters: master [${onM.join(', ')}], replica [${onR.join(', ')}]`);
          onMaster.disconnect();
          assert.ok(
            entities.every((_, i) => onR[i] !== onM[i]),
            'the replica missed the last claim of every entity',
          );
          master.kill('SIGKILL');
          via.retarget(replica.port);
        },
      });
      suite.fleet.passed();
    },
  );
});
