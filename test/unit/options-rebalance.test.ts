/** `rebalance` (on by default, 50 moves a round, ±15%) is checked like the other options. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidOptionsError, type AtomicQueuesOptions } from '../../src';
import { resolveOptions } from '../../src/core/options/resolve-options';

const REDIS = 'redis://127.0.0.1:1';

describe('rebalance option', () => {
  it('defaults to on, 50 moves a round, a tolerance of 0.15; keys merge with them', () => {
    assert.deepEqual(resolveOptions({ redis: REDIS }).rebalance, {
      enabled: true,
      maxMovesPerRound: 50,
      tolerance: 0.15,
    });
    assert.deepEqual(resolveOptions({ redis: REDIS, rebalance: { enabled: false } }).rebalance, {
      enabled: false,
      maxMovesPerRound: 50,
      tolerance: 0.15,
    });
  });

  it('rejects bad values and unknown keys with InvalidOptionsError naming the option', () => {
    const bad: [unknown, RegExp][] = [
      [{ enabled: 'yes' }, /rebalance\.enabled/],
      [{ maxMovesPerRound: 0 }, /rebalance\.maxMovesPerRound/],
      [{ maxMovesPerRound: 1.5 }, /rebalance\.maxMovesPerRound/],
      [{ tolerance: -0.1 }, /rebalance\.tolerance/],
      [{ tolerance: 2 }, /rebalance\.tolerance/],
      [{ tolerence: 0.1 }, /tolerance/],
      [true, /rebalance/],
    ];
    for (const [rebalance, message] of bad) {
      const options = { redis: REDIS, rebalance } as AtomicQueuesOptions;
      assert.throws(
        () => resolveOptions(options),
        (err: unknown) => err instanceof InvalidOptionsError && message.test(err.message),
        JSON.stringify(rebalance),
      );
    }
  });
});
