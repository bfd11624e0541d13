import { Command } from '@nestjs/cqrs';
import { QueueEntity, QueueEntityId } from 'atomic-queues';

// `Command<number>`: the handler returns the new balance, and enqueueAndWait() is typed so.
@QueueEntity('account')
export class WithdrawCommand extends Command<number> {
  constructor(
    @QueueEntityId() public readonly accountId: string,
    public readonly amount: number,
  ) {
    super();
  }
}

@QueueEntity('account')
export class DepositCommand extends Command<number> {
  constructor(
    @QueueEntityId() public readonly accountId: string,
    public readonly amount: number,
  ) {
    super();
  }
}
