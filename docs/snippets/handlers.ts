import { Injectable } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { QueueBus } from 'atomic-queues';
import { DepositCommand, WithdrawCommand } from './commands';
import { AccountRepository, InsufficientFundsError } from './repository';

@CommandHandler(WithdrawCommand)
export class WithdrawHandler implements ICommandHandler<WithdrawCommand> {
  constructor(private readonly repo: AccountRepository) {}

  async execute({ accountId, amount }: WithdrawCommand): Promise<number> {
    // Safe: jobs of one account run one at a time, across every pod.
    const account = await this.repo.findById(accountId);
    if (account.balance < amount) {
      throw new InsufficientFundsError(accountId, account.balance, amount);
    }
    account.balance -= amount;
    await this.repo.save(account);
    return account.balance;
  }
}

@CommandHandler(DepositCommand)
export class DepositHandler implements ICommandHandler<DepositCommand> {
  constructor(private readonly repo: AccountRepository) {}

  async execute({ accountId, amount }: DepositCommand): Promise<number> {
    const account = await this.repo.findById(accountId);
    account.balance += amount;
    await this.repo.save(account);
    return account.balance;
  }
}

@Injectable()
export class AccountService {
  constructor(private readonly queueBus: QueueBus) {}

  /** Resolves once the job is stored in Redis, with its id. */
  withdraw(accountId: string, amount: number): Promise<string> {
    return this.queueBus.enqueue(new WithdrawCommand(accountId, amount));
  }

  /** Resolves with the handler's result (the new balance), or rejects with its error. */
  async depositAndWait(accountId: string, amount: number): Promise<number> {
    // `balance: number`, inferred from `DepositCommand extends Command<number>`.
    const balance = await this.queueBus.enqueueAndWait(new DepositCommand(accountId, amount), {
      timeoutMs: 5_000,
    });
    return balance;
  }
}
