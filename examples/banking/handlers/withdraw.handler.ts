import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { AccountRepository } from '../account.repository';
import { WithdrawCommand } from '../commands/withdraw.command';
import { InsufficientFundsError } from '../errors/insufficient-funds.error';
import type { BalanceResult } from './balance-result.interface';

@CommandHandler(WithdrawCommand)
export class WithdrawHandler implements ICommandHandler<WithdrawCommand, BalanceResult> {
  constructor(private readonly repo: AccountRepository) {}

  async execute({ accountId, amount, operationId }: WithdrawCommand): Promise<BalanceResult> {
    const done = await this.repo.findOperation(operationId);
    if (done) return { accountId, balance: done.balanceAfter, applied: false };

    // Safe only because this account's jobs run one at a time: read → await → write.
    const account = await this.repo.findById(accountId);
    if (account.balance < amount)
      throw new InsufficientFundsError(accountId, account.balance, amount);
    account.balance -= amount;
    const outcome = await this.repo.save(account, {
      operationId,
      kind: 'withdrawal',
      amount: -amount,
    });
    return { accountId, balance: account.balance, applied: outcome === 'applied' };
  }
}
