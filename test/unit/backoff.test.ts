import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay } from '../../src/core/running/backoff';

describe('retry backoff', () => {
  it('is none without a backoff, the same with fixed, doubling with exponential', () => {
    assert.equal(backoffDelay(undefined, 3), 0);
    assert.deepEqual(
      [1, 2, 3].map((a) => backoffDelay({ type: 'fixed', delay: 100 }, a)),
      [100, 100, 100],
    );
    assert.deepEqual(
      [1, 2, 3, 4].map((a) => backoffDelay({ type: 'exponential', delay: 100 }, a)),
      [100, 200, 400, 800],
    );
  });
});
