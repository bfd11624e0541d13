import { Command } from '@nestjs/cqrs';
// In an application: `from 'atomic-queues'`.
import { JobCommand, QueueEntity, QueueEntityId } from '../../../src';
import type { BalanceResult } from '../handlers/balance-result.interface';

/** Take `amount` from an account. `operationId` makes a retried withdrawal a no-op. */
@QueueEntity('account')
@JobCommand('account.withdraw') // the name its jobs carry in Redis: stable across renames
export class WithdrawCommand extends Command<BalanceResult> {
  constructor(
    @QueueEntityId() public readonly accountId: string,
    public readonly amount: number,
    public readonly operationId: string,
  ) {
    super();
  }
}
