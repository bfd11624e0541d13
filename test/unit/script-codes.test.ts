import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LeaseLostError } from '../../src';
import { ScriptCode, isScriptCode, refusal } from '../../src/redis/script-codes';

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
