import { Injectable } from '@nestjs/common';
import { currentJobContext } from 'atomic-queues';

export interface Account {
  id: string;
  balance: number;
}

export class InsufficientFundsError extends Error {
  constructor(accountId: string, balance: number, amount: number) {
    super(`Account ${accountId} has ${balance}, cannot withdraw ${amount}`);
    this.name = 'InsufficientFundsError';
  }
}

/**
 * A store that takes the job's fencing token: a write carrying a smaller token than the last one
 * it accepted comes from a pod that lost its lease (it paused past `heartbeatTTL` while another
 * pod took the account over), and is refused.
 */
@Injectable()
export class AccountRepository {
  private readonly rows = new Map<string, { balance: number; fence: number }>();

  async findById(id: string): Promise<Account> {
    await Promise.resolve(); // stands for a database round trip
    return { id, balance: this.rows.get(id)?.balance ?? 0 };
  }

  async save(account: Account): Promise<void> {
    await Promise.resolve();
    const fence = currentJobContext()?.fencingToken ?? 0;
    const row = this.rows.get(account.id);
    if (row && fence < row.fence) throw new Error(`Stale write to ${account.id} refused`);
    this.rows.set(account.id, { balance: account.balance, fence });
  }
}
