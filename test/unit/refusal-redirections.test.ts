/**
 * A `MOVED` or `ASK` reply that reaches the library (ioredis follows a redirection in a pipeline
 * only when every reply of the pipeline is that error; with `durability` the enqueue pipeline
 * ends with `WAIT`, which answers a number) is a refusal: nothing ran, the enqueue rejects with
 * RedisRefusedError (`unavailable`, retry) and background work retries, instead of a raw
 * ReplyError. Seen in chaos `master-failover-durable` during the failover.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReplyError } from 'ioredis';
import { isTransient, refusalReason } from '../../src/redis/redis-errors';

describe('MOVED and ASK replies left to the library', () => {
  it('are refusals (unavailable), transient', () => {
    for (const message of ['MOVED 12459 127.0.0.1:40773', 'ASK 3999 127.0.0.1:6381']) {
      const error = new ReplyError(message);
      assert.equal(refusalReason(error), 'unavailable', message);
      assert.equal(isTransient(error), true, message);
    }
  });
});
