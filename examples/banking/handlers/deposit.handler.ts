import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { AccountRepository } from '../account.repository';
import { DepositCommand } from '../commands/deposit.command';
import type { BalanceResult } from './balance-result.interface';

/**
 * Deposits, and the credit half of transfers. Idempotent by `operationId`: the transfer's credit
 * may be enqueued more than once (the transfer job re-run after a crash, the outbox relay), and
 * only the first one changes the balance.
 */
@CommandHandler(DepositCommand)
export class DepositHandler implements ICommandHandler<DepositCommand, BalanceResult> {
  constructor(private readonly repo: AccountRepository) {}

  async execute({
    accountId,
    amount,
    operationId,
    transferId,
  }: DepositCommand): Promise<BalanceResult> {
    const done = await this.repo.findOperation(operationId);
    if (done) return { accountId, balance: done.balanceAfter, applied: false };

    const account = await this.repo.findById(accountId);
    account.balance += amount;
    const outcome = await this.repo.save(account, {
      operationId,
      amount,
      ...(transferId === null ? { kind: 'deposit' } : { kind: 'transfer-credit', transferId }),
    });
    return { accountId, balance: account.balance, applied: outcome === 'applied' };
  }
}
