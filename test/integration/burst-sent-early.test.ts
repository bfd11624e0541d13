/**
 * A burst of enqueues made in one synchronous turn (`Promise.all` over many calls) reaches Redis
 * while the turn is still building it, once SEND_EARLY_AT jobs are gathered: the pods can start
 * on the first jobs instead of waiting for the whole burst. Checked from outside the process:
 * while the turn still runs (the event loop blocked in `spawnSync`), `redis-cli` sees the first
 * jobs stored. A burst below that size still leaves in one write at the end of the turn. Every
 * job of the burst is stored once, in call order.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { SEND_EARLY_AT } from '../../src/core/producing/add-batcher';
import { redisUrl } from '../helpers/redis';
import { integrationSuite } from '../fixtures/integration-suite';
import { queueKey } from '../fixtures/queue-state';

const TYPE = 'account';
const entities = { [TYPE]: {} };

/** LLEN of `key`, read by another process: this one's event loop stays blocked meanwhile. */
function lengthFromOutside(key: string): number {
  const out = spawnSync('redis-cli', ['-u', redisUrl(), 'LLEN', key], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`redis-cli failed: ${out.stderr || String(out.error)}`);
  return Number(out.stdout.trim());
}

/** Polls `read` synchronously until it is above 0 or `ms` pass; returns the last reading. */
function pollBlocking(read: () => number, ms: number): number {
  const deadline = Date.now() + ms;
  let value = read();
  while (value === 0 && Date.now() < deadline) value = read();
  return value;
}

describe('a burst of enqueues in one turn', () => {
  const { prefix, engines, redis } = integrationSuite('burstSentEarly');

  async function producer(podId: string) {
    const engine = engines.create({ podId, processing: false, entities });
    await engine.start();
    return engine;
  }

  it('reaches Redis before the turn ends once it is large', { timeout: 30_000 }, async () => {
    const engine = await producer('burstProducer');
    const wait = queueKey(prefix, TYPE, 'big', 'wait');
    const count = SEND_EARLY_AT * 3 + 7;
    const calls = Array.from({ length: count }, (_, i) =>
      engine.enqueue(TYPE, 'big', 'op', { i }, { jobId: `j${i}` }),
    );
    // Still in the turn that made the calls.
    const seenDuringTurn = pollBlocking(() => lengthFromOutside(wait), 5_000);
    assert.ok(
      seenDuringTurn >= SEND_EARLY_AT,
      `${seenDuringTurn} jobs stored while the burst's turn ran, expected ${SEND_EARLY_AT} or more`,
    );
    await Promise.all(calls);
    // Oldest at the taking (right) end.
    const stored = await redis.lrange(wait, 0, -1);
    assert.deepEqual(
      stored.reverse(),
      Array.from({ length: count }, (_, i) => `j${i}`),
    );
  });

  it('leaves in one write at the end of the turn when small', { timeout: 30_000 }, async () => {
    const engine = await producer('smallProducer');
    const wait = queueKey(prefix, TYPE, 'small', 'wait');
    const count = SEND_EARLY_AT - 1;
    const calls = Array.from({ length: count }, (_, i) =>
      engine.enqueue(TYPE, 'small', 'op', { i }, { jobId: `s${i}` }),
    );
    assert.equal(
      pollBlocking(() => lengthFromOutside(wait), 300),
      0,
    );
    await Promise.all(calls);
    assert.equal(await redis.llen(wait), count);
  });
});
