import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/core/clock';

describe('ManualClock', () => {
  it('runs timers in due order as time advances, and never a cleared one', () => {
    const clock = new ManualClock(10);
    const ran: string[] = [];
    clock.setTimeout(() => ran.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => ran.push(`a@${clock.now()}`), 5);
    const cleared = clock.setTimeout(() => ran.push('never'), 1);
    clock.clearTimeout(cleared);
    clock.advance(10);
    assert.deepEqual(ran, ['a@15']);
    assert.equal(clock.now(), 20);
    clock.advance(100);
    assert.deepEqual(ran, ['a@15', 'b@30']);
    assert.equal(clock.now(), 120);
  });
});
