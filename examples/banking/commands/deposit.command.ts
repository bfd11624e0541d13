import { Command } from '@nestjs/cqrs';
// In an application: `from 'atomic-queues'`.
import { JobCommand, QueueEntity, QueueEntityId } from '../../../src';
import type { BalanceResult } from '../handlers/balance-result.interface';

/**
 * Add `amount` to an account. `operationId` makes a repeated deposit a no-op; a transfer's
 * credit is a deposit with `operationId` `transfer:<id>:credit` and `transferId` set.
 */
@QueueEntity('account')
@JobCommand('account.deposit') // the name its jobs carry in Redis: stable across renames
export class DepositCommand extends Command<BalanceResult> {
  constructor(
    @QueueEntityId() public readonly accountId: string,
    public readonly amount: number,
    public readonly operationId: string,
    public readonly transferId: string | null = null,
  ) {
    super();
  }
}
