/**
 * Commands travel as their own enumerable fields and come back as instances of their class, with
 * every field and their methods, without running the constructor again.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QueueEntity, QueueEntityId, MissingQueueEntityError } from '../../src';
import { CommandCodec } from '../../src/nest/serialization/command.codec';

let constructed = 0;

@QueueEntity('account')
class TransferCommand {
  readonly createdBy = 'api';
  constructor(
    @QueueEntityId() public readonly accountId: string,
    public readonly toAccountId: string,
    public readonly amount: number,
    public readonly tags: string[] = [],
  ) {
    constructed += 1;
  }
  describe(): string {
    return `${this.accountId}->${this.toAccountId}: ${this.amount}`;
  }
}

describe('CommandCodec', () => {
  it('describes a command by its class', () => {
    const d = CommandCodec.describe(new TransferCommand('a', 'b', 5));
    assert.equal(d.cls, TransferCommand);
    assert.equal(d.jobName, 'TransferCommand');
    assert.equal(d.entityType, 'account');
  });

  it('round-trips through JSON as an instance of the class with every field', () => {
    const sent = new TransferCommand('a:1', 'b{2}', 12.5, ['x']);
    const payload = JSON.parse(JSON.stringify(CommandCodec.payload(sent))) as unknown;
    assert.deepEqual(payload, {
      createdBy: 'api',
      accountId: 'a:1',
      toAccountId: 'b{2}',
      amount: 12.5,
      tags: ['x'],
    });
    const before = constructed;
    const revived = CommandCodec.revive(TransferCommand, payload);
    assert.equal(constructed, before, 'the constructor does not run again');
    assert.ok(revived instanceof TransferCommand);
    assert.deepEqual({ ...revived }, { ...sent });
    assert.equal(revived.describe(), 'a:1->b{2}: 12.5');
  });

  it('rejects plain objects, null and primitives with MissingQueueEntityError', () => {
    for (const [value, name] of [
      [{ accountId: '1' }, 'A plain object'],
      [Object.create(null) as object, 'A plain object'],
      [null, 'null'],
    ] as const) {
      assert.throws(
        () => CommandCodec.describe(value as object),
        (err: unknown) =>
          err instanceof MissingQueueEntityError &&
          err.message.startsWith(`${name} is not decorated`),
      );
    }
  });
});
