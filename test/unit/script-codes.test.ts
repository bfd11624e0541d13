import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LeaseLostError } from '../../src';
import { STORED_OPTS } from '../../src/core/entities/entity';
import { ScriptCode, isScriptCode, refusal } from '../../src/redis/script-codes';
import { scriptSource } from '../../src/redis/script-loader';

describe('script refusal codes', () => {
  it('map each code to one typed reason, and nothing else counts as a code', () => {
    const reasons = [
      ScriptCode.JobMissing,
      ScriptCode.LockMissing,
      ScriptCode.JobNotActive,
      ScriptCode.LockMismatch,
    ].map((code) => {
      const err = refusal(code, 'complete job 1 of {q}');
      assert.ok(err instanceof LeaseLostError);
      assert.equal(err.code, 'LEASE_LOST');
      return err.reason;
    });
    assert.deepEqual(reasons, ['job-missing', 'lock-missing', 'job-not-active', 'lock-mismatch']);
    assert.equal(isScriptCode(-2), true);
    assert.equal(isScriptCode(-4), false);
    assert.equal(isScriptCode('-2'), false);
  });
});

describe('the eviction of finished jobs', () => {
  it("recognizes the engine's own jobs by the options the engine stores with them", () => {
    // Evicting such a job deletes 2 keys instead of BullMQ's 7 (includes/removeJob.lua): if the
    // options stored changed without it, every eviction would quietly take the slow path.
    assert.ok(
      scriptSource('step').includes(`local ENGINE_JOB_OPTS = '${STORED_OPTS}'`),
      `removeJob.lua names ${STORED_OPTS}`,
    );
  });
});
