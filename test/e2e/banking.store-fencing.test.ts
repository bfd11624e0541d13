// The example's store: fencing tokens and operation ids, the two checks its writes rely on.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { StaleWriteError } from '../../examples/banking/errors/stale-write.error';
import { tempStore } from './banking-fixture';

describe('banking store', () => {
  let fixture: ReturnType<typeof tempStore>;
  beforeEach(() => {
    fixture = tempStore({ alice: 100 });
  });
  afterEach(() => fixture.remove());

  const write = (operationId: string, balance: number, fence?: number) =>
    fixture.store.commit({
      accountId: 'alice',
      balance,
      operationId,
      kind: 'deposit',
      amount: balance - (fixture.store.account('alice')?.balance ?? 0),
      fence,
      pod: 'test',
    });

  test('a write with a smaller fencing token than one seen is refused', () => {
    assert.equal(write('op-1', 110, 5), 'applied');
    assert.equal(write('op-2', 120, 5), 'applied', 'the same holder writes again');
    assert.throws(() => write('op-3', 999, 4), StaleWriteError);
    assert.equal(fixture.store.account('alice')?.balance, 120);
    assert.equal(fixture.store.operation('op-3'), undefined);
    assert.equal(write('op-4', 130, 6), 'applied', 'a newer holder writes');
    assert.equal(fixture.store.account('alice')?.fence, 6);
  });

  test('an operation id already applied is a no-op', () => {
    assert.equal(write('op-1', 150), 'applied');
    assert.equal(write('op-1', 999), 'duplicate');
    assert.equal(fixture.store.account('alice')?.balance, 150);
    assert.equal(fixture.store.ledger('alice').length, 1);
  });
});
