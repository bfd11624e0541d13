import Database from 'better-sqlite3';
import { StaleWriteError } from '../errors/stale-write.error';

/**
 * The bank's embedded store: one SQLite file shared by every pod (WAL mode, so readers never
 * block the one writer; `busy_timeout` so a writer waits its turn instead of failing).
 *
 * Three tables:
 * - `accounts`: the balance, and `fence`, the highest fencing token that has written the account;
 * - `ledger`: one row per applied operation, keyed by its operation id (idempotency key), with
 *   the balance it left behind (so "did a balance ever go negative" can be answered afterwards);
 * - `transfers`: the transfer outbox, one row per debited transfer, `credited_at` set by the
 *   credit (see README.md, "Transfers").
 *
 * Every method is synchronous (better-sqlite3); the repository adds the I/O-like latency.
 */
export interface AccountRow {
  id: string;
  balance: number;
  openingBalance: number;
  fence: number;
}

export type OperationKind = 'deposit' | 'withdrawal' | 'transfer-debit' | 'transfer-credit';

export interface LedgerRow {
  operationId: string;
  accountId: string;
  kind: OperationKind;
  /** Signed change of the balance. */
  amount: number;
  balanceAfter: number;
  /** Fencing token the write carried; `null` when it ran outside a job (no library). */
  fence: number | null;
  pod: string;
  at: number;
}

export interface TransferRow {
  id: string;
  fromId: string;
  toId: string;
  amount: number;
  debitedAt: number;
  creditedAt: number | null;
}

/** One write: the new balance of an account and the operation that produced it. */
export interface BalanceWrite {
  accountId: string;
  balance: number;
  operationId: string;
  kind: OperationKind;
  amount: number;
  /** The job's fencing token; omitted outside a job. */
  fence?: number;
  pod: string;
  /** The transfer this write debits (outbox row created) or credits (outbox row closed). */
  transferId?: string;
  /** Destination of a transfer debit. */
  toAccountId?: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS accounts (
  id TEXT PRIMARY KEY,
  balance INTEGER NOT NULL,
  opening_balance INTEGER NOT NULL,
  fence INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS ledger (
  operation_id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  amount INTEGER NOT NULL,
  balance_after INTEGER NOT NULL,
  fence INTEGER,
  pod TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS transfers (
  id TEXT PRIMARY KEY,
  from_id TEXT NOT NULL,
  to_id TEXT NOT NULL,
  amount INTEGER NOT NULL,
  debited_at INTEGER NOT NULL,
  credited_at INTEGER
);
CREATE INDEX IF NOT EXISTS transfers_pending ON transfers (debited_at) WHERE credited_at IS NULL;
`;

const LEDGER_SELECT = `SELECT operation_id AS operationId, account_id AS accountId, kind, amount,
  balance_after AS balanceAfter, fence, pod, at FROM ledger`;

const TRANSFER_SELECT = `SELECT id, from_id AS fromId, to_id AS toId, amount,
  debited_at AS debitedAt, credited_at AS creditedAt FROM transfers`;

export class BankStore {
  private readonly db: Database.Database;
  private readonly commitTx: Database.Transaction<(write: BalanceWrite) => 'applied' | 'duplicate'>;

  /** Opens (and creates, if needed) the store at `file`. */
  constructor(
    readonly file: string,
    { busyTimeoutMs = 10_000 }: { busyTimeoutMs?: number } = {},
  ) {
    this.db = new Database(file, { timeout: busyTimeoutMs });
    this.db.pragma('journal_mode = WAL');
    // WAL + NORMAL: a commit survives a process crash (not a power cut), without an fsync each.
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(SCHEMA);
    this.commitTx = this.db.transaction((w: BalanceWrite) => this.commitInTx(w));
  }

  close(): void {
    this.db.close();
  }

  /** Creates accounts, or resets them (and forgets their history) when they exist. */
  seed(balances: Record<string, number>): void {
    this.db.transaction(() => {
      for (const [id, balance] of Object.entries(balances)) {
        this.db.prepare('DELETE FROM ledger WHERE account_id = ?').run(id);
        this.db.prepare('DELETE FROM transfers WHERE from_id = ? OR to_id = ?').run(id, id);
        this.db
          .prepare(
            `INSERT INTO accounts (id, balance, opening_balance, fence) VALUES (?, ?, ?, 0)
             ON CONFLICT (id) DO UPDATE SET balance = excluded.balance,
               opening_balance = excluded.opening_balance, fence = 0`,
          )
          .run(id, balance, balance);
      }
    })();
  }

  account(id: string): AccountRow | undefined {
    return this.db
      .prepare(
        'SELECT id, balance, opening_balance AS openingBalance, fence FROM accounts WHERE id = ?',
      )
      .get(id) as AccountRow | undefined;
  }

  accounts(): AccountRow[] {
    return this.db
      .prepare(
        'SELECT id, balance, opening_balance AS openingBalance, fence FROM accounts ORDER BY id',
      )
      .all() as AccountRow[];
  }

  operation(operationId: string): LedgerRow | undefined {
    return this.db.prepare(`${LEDGER_SELECT} WHERE operation_id = ?`).get(operationId) as
      LedgerRow | undefined;
  }

  ledger(accountId?: string): LedgerRow[] {
    return (
      accountId === undefined
        ? this.db.prepare(`${LEDGER_SELECT} ORDER BY at, operation_id`).all()
        : this.db.prepare(`${LEDGER_SELECT} WHERE account_id = ? ORDER BY at`).all(accountId)
    ) as LedgerRow[];
  }

  transfer(id: string): TransferRow | undefined {
    return this.db.prepare(`${TRANSFER_SELECT} WHERE id = ?`).get(id) as TransferRow | undefined;
  }

  transfers(): TransferRow[] {
    return this.db.prepare(TRANSFER_SELECT).all() as TransferRow[];
  }

  /** Debited transfers whose credit has not been applied, debited before `olderThan` (epoch ms). */
  pendingTransfers(olderThan = Number.MAX_SAFE_INTEGER, limit = 1000): TransferRow[] {
    return this.db
      .prepare(
        `${TRANSFER_SELECT} WHERE credited_at IS NULL AND debited_at < ? ORDER BY debited_at LIMIT ?`,
      )
      .all(olderThan, limit) as TransferRow[];
  }

  /**
   * Writes a new balance and its ledger row in one transaction (`BEGIN IMMEDIATE`: the write lock
   * is taken before anything is read, so the checks below and the write are one atomic step):
   *
   * 1. an operation id already in the ledger is a no-op (`'duplicate'`): retries are harmless;
   * 2. fencing: a write carrying a token smaller than the account's `fence` (the highest token
   *    seen) is rejected with StaleWriteError. A pod that stalled past its lease holds an older
   *    token than the pod that took the account over, so its late write cannot land;
   * 3. the balance is written as given (the caller computed it from an earlier read: that is the
   *    read → await → write the queue keeps safe), the ledger row inserted, and for transfers the
   *    outbox row created (debit) or closed (credit).
   */
  commit(write: BalanceWrite): 'applied' | 'duplicate' {
    return this.commitTx.immediate(write);
  }

  private commitInTx(w: BalanceWrite): 'applied' | 'duplicate' {
    if (this.db.prepare('SELECT 1 FROM ledger WHERE operation_id = ?').get(w.operationId))
      return 'duplicate';
    const current = this.db.prepare('SELECT fence FROM accounts WHERE id = ?').get(w.accountId) as
      { fence: number } | undefined;
    if (!current) throw new Error(`Account ${w.accountId} does not exist`);
    if (w.fence !== undefined) {
      if (w.fence < current.fence) throw new StaleWriteError(w.accountId, w.fence, current.fence);
      this.db.prepare('UPDATE accounts SET fence = ? WHERE id = ?').run(w.fence, w.accountId);
    }
    const now = Date.now();
    this.db.prepare('UPDATE accounts SET balance = ? WHERE id = ?').run(w.balance, w.accountId);
    this.db
      .prepare(
        `INSERT INTO ledger (operation_id, account_id, kind, amount, balance_after, fence, pod, at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(w.operationId, w.accountId, w.kind, w.amount, w.balance, w.fence ?? null, w.pod, now);
    if (w.kind === 'transfer-debit') {
      this.db
        .prepare(
          'INSERT INTO transfers (id, from_id, to_id, amount, debited_at) VALUES (?, ?, ?, ?, ?)',
        )
        .run(required(w, 'transferId'), w.accountId, required(w, 'toAccountId'), -w.amount, now);
    }
    if (w.kind === 'transfer-credit') {
      this.db
        .prepare('UPDATE transfers SET credited_at = ? WHERE id = ? AND credited_at IS NULL')
        .run(now, required(w, 'transferId'));
    }
    return 'applied';
  }
}

function required(w: BalanceWrite, field: 'transferId' | 'toAccountId'): string {
  const value = w[field];
  if (value === undefined) throw new Error(`A ${w.kind} write needs \`${field}\``);
  return value;
}
