/**
 * The Redis ACL user README documents (section "Redis ACL and TLS"), taken from README itself:
 * confined to the key prefix and the listed commands, it runs everything a pod does (enqueue,
 * enqueueBulk, enqueueAndWait, progress and logs, retries, a failed job listed, retried and
 * removed, an idle entity released and taken again, delayed jobs, the admin calls) with nothing
 * refused (Redis's ACL LOG stays empty). A user that may not run what start-up runs, or holds
 * another prefix, fails `start()` at once with RedisConnectionError `auth` naming the refusal.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { startLocalRedis, type LocalRedis } from '../../scripts/local-redis';
import { AtomicEngine, type AtomicQueuesOptions, type JobContext } from '../../src';
import { waitFor } from '../../support/async';
import { startFailure } from '../fixtures/startup';
import { connect } from '../redis-infra/connect';

const PREFIX = 'aclapp';
const PASSWORD = 'aq-secret';
const ADMIN_PASSWORD = 'admin-secret';
/** Far above what a refusal takes: a start that waits for it has not failed at once. */
const TIMEOUT_MS = 20_000;

/** README's `ACL SETUSER aq ...` line, as `ACL SETUSER` arguments for `name` and PREFIX. */
function documentedRule(name: string, drop: readonly string[] = []): string[] {
  const readme = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'README.md'), 'utf8');
  const line = readme.split('\n').find((l) => l.startsWith('ACL SETUSER aq on >PASSWORD '));
  assert.ok(line, 'README documents the ACL line');
  const words = line.split(' ').slice(3); // after `ACL SETUSER aq`
  for (const command of drop) assert.ok(words.includes(command), `README's line has ${command}`);
  return [
    name,
    ...words
      .filter((w) => !drop.includes(w))
      .map((w) => (w === '>PASSWORD' ? `>${PASSWORD}` : w.replaceAll('myapp:', `${PREFIX}:`))),
  ];
}

describe('a Redis ACL user confined to the prefix and the documented commands', () => {
  let redis: LocalRedis;
  let admin: Redis;
  const engines: AtomicEngine[] = [];
  const errors: string[] = [];

  const options = (
    user: string,
    podId: string,
    processing: boolean,
    keyPrefix = PREFIX,
  ): AtomicQueuesOptions => ({
    redis: { host: '127.0.0.1', port: redis.port, username: user, password: PASSWORD },
    keyPrefix,
    podId,
    processing,
    startTimeoutMs: TIMEOUT_MS,
    logger: false,
    entities: {
      acct: { idleTimeoutSeconds: 1, attempts: 2, onFailure: 'continue' },
    },
  });

  before(async () => {
    redis = await startLocalRedis({
      defaultUser: 'off',
      aclUsers: [{ name: 'admin', password: ADMIN_PASSWORD, rules: '~* &* +@all' }],
    });
    admin = await connect(redis.url, { username: 'admin', password: ADMIN_PASSWORD });
    await admin.call('ACL', 'SETUSER', ...documentedRule('aq'));
    await admin.call('ACL', 'SETUSER', ...documentedRule('noeval', ['+evalsha', '+eval']));
    await admin.call('ACL', 'SETUSER', ...documentedRule('nohset', ['+hset']));
  });
  after(async () => {
    for (const engine of engines) await engine.stop().catch(() => undefined);
    admin?.disconnect();
    await redis?.stop();
  });

  it('runs jobs, retries, failed-job calls and admin calls with nothing refused', async () => {
    await admin.call('ACL', 'LOG', 'RESET');
    const pod = new AtomicEngine(options('aq', 'p1', true));
    const producer = new AtomicEngine(options('aq', 'producer', false));
    engines.push(pod, producer);
    for (const [name, engine] of [
      ['p1', pod],
      ['producer', producer],
    ] as const)
      engine.on('error', (err: Error, context: string) =>
        errors.push(`${name} (${context}): ${err.message}`),
      );
    const ran: string[] = [];
    pod.registerHandler('acct', async (job: Job, ctx: JobContext) => {
      const data = job.data as { n: number; fail?: boolean };
      await job.updateProgress(50);
      await job.log(`n=${data.n}`);
      ran.push(`${ctx.entityId}:${data.n}`);
      if (data.fail) throw new Error(`job ${data.n} fails`);
      return data.n * 10;
    });
    await pod.start();
    await producer.start();

    for (let n = 0; n < 3; n++) await producer.enqueue('acct', 'a', 'op', { n });
    await producer.enqueueBulk(
      [3, 4, 5].map((n) => ({ type: 'acct', entityId: 'b', name: 'op', data: { n } })),
    );
    assert.equal(await producer.enqueueAndWait('acct', 'c', 'op', { n: 6 }), 60);
    await producer.enqueue('acct', 'd', 'op', { n: 7 }, { delay: 100 });
    await producer.enqueue('acct', 'f', 'op', { n: 8, fail: true });
    await waitFor(async () => (await producer.listFailedEntities('acct')).total === 1, {
      message: 'the failing job to fail for good (2 attempts)',
    });
    assert.equal(
      ran.filter((r) => r === 'f:8').length,
      2,
      'the failing job ran twice (attempts: 2)',
    );
    const failed = await producer.listFailedJobs('acct', 'f');
    assert.equal(failed.items.length, 1);
    assert.equal((await producer.retryFailedJobs('acct', 'f', 'all')).retried.length, 1);
    await waitFor(async () => (await producer.listFailedJobs('acct', 'f')).items.length === 1, {
      message: 'the retried job to fail again',
    });
    assert.equal((await producer.removeFailedJobs('acct', 'f', 'all')).removed.length, 1);

    await producer.pauseEntity('acct', 'a');
    await producer.resumeEntity('acct', 'a');
    assert.equal((await producer.getBacklog('acct', 'a')).failed, 0);
    await producer.listEntities();
    await producer.listSpawnRequests();
    await waitFor(() => ran.includes('d:7'), { message: 'the delayed job to run' });
    // Idle for idleTimeoutSeconds: the pod releases the entity, the next job takes it again.
    await waitFor(() => !pod.activeEntities().some((e) => e.entityId === 'c'), {
      message: 'the pod to release the idle entity c',
    });
    assert.equal(await producer.enqueueAndWait('acct', 'c', 'op', { n: 9 }), 90);
    assert.equal((await pod.health()).status, 'up');

    const order = (entity: string): string[] => ran.filter((r) => r.startsWith(`${entity}:`));
    assert.deepEqual(order('a'), ['a:0', 'a:1', 'a:2']);
    assert.deepEqual(order('b'), ['b:3', 'b:4', 'b:5']);
    assert.deepEqual(order('c'), ['c:6', 'c:9']);
    assert.deepEqual(order('d'), ['d:7']);
    await producer.stop();
    await pod.stop();
    assert.deepEqual(errors, []);
    assert.deepEqual(await admin.call('ACL', 'LOG'), [], 'Redis refused nothing');
  });

  const refusals: [name: string, user: string, keyPrefix: string, message: RegExp][] = [
    [
      'without EVALSHA and EVAL',
      'noeval',
      PREFIX,
      /: permission denied \(NOPERM [^)]*'eval(sha)?' command\); check the credentials/,
    ],
    [
      'without a command the start-up scripts run (HSET)',
      'nohset',
      PREFIX,
      /: permission denied \(ERR The user executing the script can't run this command/,
    ],
    [
      'on another key prefix',
      'aq',
      'otherapp',
      /: permission denied \(NOPERM [^)]*keys?[^)]*\); check the credentials/,
    ],
  ];
  for (const [name, user, keyPrefix, message] of refusals) {
    it(`${name}: start() fails at once with \`auth\``, async () => {
      const engine = new AtomicEngine(options(user, 'p2', true, keyPrefix));
      const { error, elapsedMs } = await startFailure(engine);
      assert.equal(error.reason, 'auth');
      assert.ok(
        error.message.startsWith(`Cannot connect to Redis at 127.0.0.1:${redis.port}: `),
        error.message,
      );
      assert.match(error.message, message);
      assert.ok(!error.message.includes(PASSWORD), 'no secret in the message');
      assert.ok(elapsedMs < TIMEOUT_MS / 4, `took ${elapsedMs} ms: it waited for the timeout`);
    });
  }
});
