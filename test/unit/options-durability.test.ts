/**
 * `durability` ({ replicas, timeoutMs }) is off by default, resolved frozen when given, and
 * refused with InvalidOptionsError naming the field when it cannot work: replicas or timeoutMs
 * not a positive integer, timeoutMs not below enqueueTimeoutMs (the enqueue would time out
 * before it could report the replicas), or an unknown key; the Nest module takes it as it is.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Test } from '@nestjs/testing';
import { AtomicQueuesModule, InvalidOptionsError } from '../../src';
import { resolveOptions } from '../../src/core/options/resolve-options';

const REDIS = 'redis://127.0.0.1:1';

describe('the durability option', () => {
  it('is off by default and resolved as given', () => {
    assert.equal(resolveOptions({ redis: REDIS }).durability, undefined);
    const resolved = resolveOptions({ redis: REDIS, durability: { replicas: 1, timeoutMs: 200 } });
    assert.deepEqual(resolved.durability, { replicas: 1, timeoutMs: 200 });
    assert.ok(Object.isFrozen(resolved.durability));
  });

  it('refuses what it cannot work with, naming the field', () => {
    for (const [durability, option, enqueueTimeoutMs] of [
      [{ replicas: 0, timeoutMs: 100 }, 'durability.replicas'],
      [{ replicas: 1.5, timeoutMs: 100 }, 'durability.replicas'],
      [{ timeoutMs: 100 }, 'durability.replicas'],
      [{ replicas: 1, timeoutMs: 0 }, 'durability.timeoutMs'],
      [{ replicas: 1 }, 'durability.timeoutMs'],
      [{ replicas: 1, timeoutMs: 5000 }, 'durability.timeoutMs'],
      [{ replicas: 1, timeoutMs: 300 }, 'durability.timeoutMs', 300],
      [{ replicas: 1, timeoutMs: 100, timeout: 1 }, 'durability.timeout'],
      [1, 'durability'],
    ] as [unknown, string, number?][]) {
      assert.throws(
        () =>
          resolveOptions({
            redis: REDIS,
            enqueueTimeoutMs,
            durability: durability as { replicas: number; timeoutMs: number },
          }),
        (err: unknown) => err instanceof InvalidOptionsError && err.option === option,
        `${JSON.stringify(durability)} (enqueueTimeoutMs ${enqueueTimeoutMs})`,
      );
    }
  });

  it('is checked by the Nest module as by the engine', async () => {
    const module = AtomicQueuesModule.forRoot({
      redis: REDIS,
      durability: { replicas: 1, timeoutMs: 0 },
    });
    await assert.rejects(
      Test.createTestingModule({ imports: [module] })
        .setLogger({ log() {}, error() {}, warn() {} })
        .compile(),
      (err: unknown) => err instanceof InvalidOptionsError && err.option === 'durability.timeoutMs',
    );
  });
});
