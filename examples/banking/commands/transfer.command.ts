import { Command } from '@nestjs/cqrs';
// In an application: `from 'atomic-queues'`.
import { JobCommand, QueueEntity, QueueEntityId } from '../../../src';
import type { TransferResult } from '../handlers/balance-result.interface';

/**
 * Move `amount` from `accountId` to `toAccountId`. Runs in the source account's queue (the
 * debit); the credit is a DepositCommand in the destination's queue. `transferId` keys both.
 */
@QueueEntity('account')
@JobCommand('account.transfer') // the name its jobs carry in Redis: stable across renames
export class TransferCommand extends Command<TransferResult> {
  constructor(
    @QueueEntityId() public readonly accountId: string,
    public readonly toAccountId: string,
    public readonly amount: number,
    public readonly transferId: string,
  ) {
    super();
  }
}
