import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
// In an application: `from 'atomic-queues'`.
import { QueueBus } from '../../../src';
import { AccountRepository } from '../account.repository';
import { DepositCommand } from '../commands/deposit.command';
import { transferCreditId, transferCreditJobId, transferDebitId } from '../commands/operation-ids';
import { TransferCommand } from '../commands/transfer.command';
import { AccountNotFoundError } from '../errors/account-not-found.error';
import { InsufficientFundsError } from '../errors/insufficient-funds.error';
import { FaultInjector } from '../fault-injector';
import type { TransferResult } from './balance-result.interface';

/**
 * Runs in the source account's queue. Debits the source (the debit and the transfer's outbox
 * row commit together), then enqueues the credit to the destination's queue. If the pod dies
 * between the two, the job runs again on another pod: the debit is found in the ledger and
 * skipped, the credit is enqueued (see README.md, "Transfers").
 */
@CommandHandler(TransferCommand)
export class TransferHandler implements ICommandHandler<TransferCommand, TransferResult> {
  constructor(
    private readonly repo: AccountRepository,
    private readonly queueBus: QueueBus,
    private readonly faults: FaultInjector,
  ) {}

  async execute({
    accountId,
    toAccountId,
    amount,
    transferId,
  }: TransferCommand): Promise<TransferResult> {
    const debitId = transferDebitId(transferId);
    const done = await this.repo.findOperation(debitId);
    let balance = done?.balanceAfter;
    if (balance === undefined) {
      if (!(await this.repo.exists(toAccountId))) throw new AccountNotFoundError(toAccountId);
      // Debit the source: we are in the source account's queue, so this is safe.
      const source = await this.repo.findById(accountId);
      if (source.balance < amount)
        throw new InsufficientFundsError(accountId, source.balance, amount);
      source.balance -= amount;
      await this.repo.save(source, {
        operationId: debitId,
        kind: 'transfer-debit',
        amount: -amount,
        transferId,
        toAccountId,
      });
      balance = source.balance;
      this.faults.afterDebit(transferId);
    }
    // Credit the destination in its own queue; one job per transfer, idempotent by operation id.
    await this.queueBus.enqueue(
      new DepositCommand(toAccountId, amount, transferCreditId(transferId), transferId),
      { jobId: transferCreditJobId(transferId) },
    );
    return { transferId, accountId, balance, applied: done === undefined };
  }
}
