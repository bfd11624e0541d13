import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
// In an application: `from 'atomic-queues'`.
import { currentJobContext } from '../../src';
import { BANKING_OPTIONS, type BankingOptions } from './banking-options';
import { AccountNotFoundError } from './errors/account-not-found.error';
import { BankStore, type LedgerRow, type OperationKind } from './store/bank-store';

export interface Account {
  readonly id: string;
  balance: number;
}

/** What a save records besides the new balance. */
export interface Operation {
  /** Idempotency key: an operation id already applied makes the save a no-op. */
  operationId: string;
  kind: OperationKind;
  /** Signed change of the balance. */
  amount: number;
  /** The transfer this operation debits or credits. */
  transferId?: string;
  /** Destination of a transfer debit. */
  toAccountId?: string;
}

/**
 * The AccountRepository of the atomic-queues 1.x README: `findById` then `save`, with a deliberately non-atomic
 * read → await → write in between (the await stands for a network round trip to a database).
 * Two handlers of one account running at once would both read the same balance and the second
 * write would erase the first: the per-account queue is what keeps them apart.
 *
 * `save` passes the running job's fencing token to the store, which refuses a write older than
 * one it has already seen for the account (see BankStore.commit).
 */
@Injectable()
export class AccountRepository implements OnApplicationShutdown {
  readonly store: BankStore;

  constructor(@Inject(BANKING_OPTIONS) private readonly options: BankingOptions) {
    this.store = new BankStore(options.storePath);
  }

  /** Late: the library lets running jobs finish in `onModuleDestroy`, and they use the store. */
  onApplicationShutdown(): void {
    this.store.close();
  }

  async findById(id: string): Promise<Account> {
    const row = this.store.account(id);
    if (!row) throw new AccountNotFoundError(id);
    await sleep(this.options.storeLatencyMs);
    return { id: row.id, balance: row.balance };
  }

  exists(id: string): Promise<boolean> {
    return Promise.resolve(this.store.account(id) !== undefined);
  }

  /** The ledger row of an operation already applied, if any. */
  findOperation(operationId: string): Promise<LedgerRow | undefined> {
    return Promise.resolve(this.store.operation(operationId));
  }

  /** Writes the account's balance; `'duplicate'` when the operation was applied before. */
  save(account: Account, op: Operation): Promise<'applied' | 'duplicate'> {
    return Promise.resolve(
      this.store.commit({
        accountId: account.id,
        balance: account.balance,
        ...op,
        fence: this.fencingTokenFor(account.id),
        pod: this.options.podName,
      }),
    );
  }

  /**
   * The fencing token of the job running this call, when that job belongs to this account
   * (a token is only comparable with tokens of the same entity). Outside a job (the demo's
   * `--without-library` mode) there is none and writes are not fenced.
   */
  private fencingTokenFor(accountId: string): number | undefined {
    const job = currentJobContext();
    return job?.entityType === 'account' && job.entityId === accountId
      ? job.fencingToken
      : undefined;
  }
}
