/**
 * The oracle: one SQLite file, outside the Redis under test, that every process of a scenario
 * writes (WAL mode, one connection per process, short busy timeout with asynchronous retries so
 * that waiting for the store never blocks a pod's event loop and its heartbeat).
 *
 * - `products`: the business store. Each row carries the highest fencing token it has accepted;
 *   every write is `UPDATE ... WHERE id = ? AND fence <= ?` with the job's token, so a write from
 *   a pod that lost its lease (a newer holder already registered a larger token) changes nothing.
 * - `applied`: one row per business effect (an order deducted, or refused for lack of stock),
 *   written in the same transaction as the stock: a job re-run after a crash finds its business id
 *   here and applies nothing. `commit_seq` is the global commit order.
 * - `executions`: every handler execution (entity, job id, business id, pod, pid, fencing token,
 *   start/end in ms from `now()` of util.ts, the witnesses' clock, outcome).
 * - `enqueued`: every enqueue the driver saw acknowledged.
 * - `faults`: every fault injected (kind, target pod and pid, time).
 */
import Database from 'better-sqlite3';
import type { Database as DB } from 'better-sqlite3';
import { sleep } from '../support/async';
import { now } from './util';

/**
 * The fault kind of a Redis restarted empty (no persistence). Accepted jobs it dropped before
 * they ran are what running without persistence means: counted apart from lost ones.
 */
export const DATA_LOSS = 'redis-wipe';
/**
 * The fault kind of a Cluster master killed and replaced by its replica (`at` the kill, `until`
 * the promotion). Accepted jobs it dropped count as lost: the durability option exists for them.
 */
export const FAILOVER = 'redis-failover';

export type Outcome = 'running' | 'committed' | 'fenced' | 'rerun' | 'threw';

export interface ExecutionRow {
  id: number;
  entity: string;
  type: string;
  job_id: string;
  business_id: string;
  seq: number;
  pod: string;
  pid: number;
  fence: number;
  attempt: number;
  start: number;
  end: number | null;
  outcome: Outcome;
  detail: string | null;
}

export interface AppliedRow {
  commit_seq: number;
  business_id: string;
  entity: string;
  job_id: string;
  seq: number;
  qty: number;
  fence: number;
  exec_id: number;
  at: number;
}

export interface EnqueuedRow {
  job_id: string;
  business_id: string;
  type: string;
  entity: string;
  seq: number;
  qty: number;
  /** `commit`: must be applied; `fail`: a poison job, must end in failed, never applied. */
  expect: 'commit' | 'fail';
  sent_at: number;
  acked_at: number;
}

export interface ProductRow {
  id: string;
  initial: number;
  stock: number;
  fence: number;
}

export interface FaultRow {
  id: number;
  kind: string;
  pod: string | null;
  pid: number | null;
  at: number;
  until: number | null;
  detail: string | null;
}

export interface OracleDump {
  products: ProductRow[];
  applied: AppliedRow[];
  executions: ExecutionRow[];
  enqueued: EnqueuedRow[];
  faults: FaultRow[];
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS products (
  id TEXT PRIMARY KEY, initial INTEGER NOT NULL, stock INTEGER NOT NULL,
  fence INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS applied (
  commit_seq INTEGER PRIMARY KEY AUTOINCREMENT, business_id TEXT NOT NULL, entity TEXT NOT NULL,
  job_id TEXT NOT NULL, seq INTEGER NOT NULL, qty INTEGER NOT NULL, fence INTEGER NOT NULL,
  exec_id INTEGER NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS applied_business ON applied(business_id);
CREATE TABLE IF NOT EXISTS executions (
  id INTEGER PRIMARY KEY AUTOINCREMENT, entity TEXT NOT NULL, type TEXT NOT NULL,
  job_id TEXT NOT NULL, business_id TEXT NOT NULL, seq INTEGER NOT NULL, pod TEXT NOT NULL,
  pid INTEGER NOT NULL, fence INTEGER NOT NULL, attempt INTEGER NOT NULL, start REAL NOT NULL,
  end REAL, outcome TEXT NOT NULL, detail TEXT);
CREATE INDEX IF NOT EXISTS executions_job ON executions(job_id);
CREATE TABLE IF NOT EXISTS enqueued (
  job_id TEXT PRIMARY KEY, business_id TEXT NOT NULL, type TEXT NOT NULL, entity TEXT NOT NULL,
  seq INTEGER NOT NULL, qty INTEGER NOT NULL, expect TEXT NOT NULL, sent_at REAL NOT NULL,
  acked_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS faults (
  id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, pod TEXT, pid INTEGER,
  at REAL NOT NULL, until REAL, detail TEXT);
`;

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code === 'SQLITE_LOCKED');
}

/** Opens the oracle file (one connection per process). */
export function openOracle(file: string, create = false): DB {
  const db = new Database(file);
  db.pragma('busy_timeout = 25');
  db.pragma('journal_mode = WAL');
  // NORMAL in WAL mode survives any process crash (kill -9); only an OS crash could lose commits.
  db.pragma('synchronous = NORMAL');
  if (create) db.exec(SCHEMA);
  return db;
}

/**
 * Runs `fn` in a write (IMMEDIATE) transaction; when another process holds the write lock,
 * waits asynchronously and retries, so the caller's event loop keeps running meanwhile.
 */
export async function write<T>(db: DB, fn: () => T, timeoutMs = 120_000): Promise<T> {
  const tx = db.transaction(fn);
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return tx.immediate();
    } catch (err) {
      if (!isBusy(err) || Date.now() > until) throw err;
      await sleep(1 + Math.random() * 6);
    }
  }
}

/** The fenced stock store a pod's handler uses. */
export class StockStore {
  private readonly registerFence;
  private readonly readStock;
  private readonly readFence;
  private readonly isApplied;
  private readonly priorExecutions;
  private readonly insertExecution;
  private readonly finishExecution;
  private readonly writeStock;
  private readonly insertApplied;
  private readonly insertFault;

  constructor(
    private readonly db: DB,
    private readonly pod: string,
    /** Off only in the control run that shows what the checkers catch without fencing. */
    private readonly fenced = true,
  ) {
    this.registerFence = db.prepare(
      'UPDATE products SET fence = max(fence, @fence) WHERE id = @id AND (fence <= @fence OR @unfenced)',
    );
    this.readStock = db.prepare<[string], { stock: number }>(
      'SELECT stock FROM products WHERE id = ?',
    );
    this.readFence = db.prepare<[string], { fence: number }>(
      'SELECT fence FROM products WHERE id = ?',
    );
    this.isApplied = db.prepare<[string], { n: number }>(
      'SELECT count(*) AS n FROM applied WHERE business_id = ?',
    );
    this.priorExecutions = db.prepare<[string], { n: number }>(
      'SELECT count(*) AS n FROM executions WHERE job_id = ?',
    );
    this.insertExecution = db.prepare(
      `INSERT INTO executions (entity, type, job_id, business_id, seq, pod, pid, fence, attempt,
         start, end, outcome, detail)
       VALUES (@entity, @type, @jobId, @businessId, @seq, @pod, @pid, @fence, @attempt,
         @start, @end, @outcome, @detail)`,
    );
    this.finishExecution = db.prepare(
      'UPDATE executions SET end = @end, outcome = @outcome, detail = @detail WHERE id = @id',
    );
    this.writeStock = db.prepare(
      `UPDATE products SET stock = @stock, fence = max(fence, @fence)
       WHERE id = @id AND (fence <= @fence OR @unfenced)`,
    );
    this.insertApplied = db.prepare(
      `INSERT INTO applied (business_id, entity, job_id, seq, qty, fence, exec_id, at)
       VALUES (@businessId, @entity, @jobId, @seq, @qty, @fence, @execId, @at)`,
    );
    this.insertFault = db.prepare(
      'INSERT INTO faults (kind, pod, pid, at, until, detail) VALUES (?, ?, ?, ?, ?, ?)',
    );
  }

  /**
   * First step of an execution, one transaction: register the job's fencing token with the
   * product (refused when a newer holder already registered a larger one), read the stock, see
   * whether the business effect was already applied, and log the execution.
   */
  begin(job: {
    entity: string;
    type: string;
    jobId: string;
    businessId: string;
    seq: number;
    fence: number;
    attempt: number;
  }): Promise<{ execId: number; state: 'go' | 'fenced' | 'rerun'; stock: number; prior: number }> {
    return write(this.db, () => {
      const start = now();
      const prior = this.priorExecutions.get(job.jobId)?.n ?? 0;
      const accepted =
        this.registerFence.run({ id: job.entity, fence: job.fence, unfenced: this.fenced ? 0 : 1 })
          .changes === 1;
      const applied = (this.isApplied.get(job.businessId)?.n ?? 0) > 0;
      const state = !accepted ? 'fenced' : applied ? 'rerun' : 'go';
      const stock = this.readStock.get(job.entity)?.stock ?? NaN;
      const info = this.insertExecution.run({
        ...job,
        pod: this.pod,
        pid: process.pid,
        start,
        end: state === 'go' ? null : start,
        outcome: state === 'go' ? 'running' : state,
        detail: null,
      });
      return { execId: Number(info.lastInsertRowid), state, stock, prior };
    });
  }

  /**
   * Last step, one transaction: unless the effect was applied meanwhile, write the new stock
   * (fenced by the token) and record the business effect; log the execution's outcome.
   */
  commit(c: {
    execId: number;
    entity: string;
    jobId: string;
    businessId: string;
    seq: number;
    fence: number;
    qty: number;
    stockRead: number;
  }): Promise<Outcome> {
    return write(this.db, () => {
      const end = now();
      // A stale holder is refused whatever else is true; then a re-run applies nothing.
      const seen = this.readFence.get(c.entity)?.fence ?? 0;
      if (this.fenced && seen > c.fence) {
        this.finishExecution.run({ id: c.execId, end, outcome: 'fenced', detail: 'at commit' });
        return 'fenced';
      }
      if ((this.isApplied.get(c.businessId)?.n ?? 0) > 0) {
        this.finishExecution.run({ id: c.execId, end, outcome: 'rerun', detail: 'at commit' });
        return 'rerun';
      }
      // Out of stock: the order is refused, which is its business effect (nothing deducted).
      const qty = c.stockRead >= c.qty ? c.qty : 0;
      const written = this.writeStock.run({
        id: c.entity,
        stock: c.stockRead - qty,
        fence: c.fence,
        unfenced: this.fenced ? 0 : 1,
      }).changes;
      if (written !== 1) {
        this.finishExecution.run({ id: c.execId, end, outcome: 'fenced', detail: 'at commit' });
        return 'fenced';
      }
      this.insertApplied.run({ ...c, qty, at: end });
      this.finishExecution.run({ id: c.execId, end, outcome: 'committed', detail: null });
      return 'committed';
    });
  }

  /** Logs an execution that threw (poison job, planned failure). */
  threw(execId: number, message: string): Promise<void> {
    return write(this.db, () => {
      this.finishExecution.run({ id: execId, end: now(), outcome: 'threw', detail: message });
    });
  }

  fault(kind: string, at: number, until: number | null, detail: string | null): Promise<void> {
    return write(this.db, () => {
      this.insertFault.run(kind, this.pod, process.pid, at, until, detail);
    });
  }
}

/** The driver's side: seeds products, records acknowledged enqueues and faults, reads it all. */
export class DriverOracle {
  readonly db: DB;
  private readonly insertEnqueued;
  private readonly insertFault;
  private readonly pending: EnqueuedRow[] = [];
  private flushing?: Promise<void>;

  constructor(readonly file: string) {
    this.db = openOracle(file, true);
    this.insertEnqueued = this.db.prepare(
      `INSERT OR REPLACE INTO enqueued (job_id, business_id, type, entity, seq, qty, expect,
         sent_at, acked_at)
       VALUES (@job_id, @business_id, @type, @entity, @seq, @qty, @expect, @sent_at, @acked_at)`,
    );
    this.insertFault = this.db.prepare(
      'INSERT INTO faults (kind, pod, pid, at, until, detail) VALUES (?, ?, ?, ?, ?, ?)',
    );
  }

  seedProducts(products: readonly { id: string; stock: number }[]): void {
    const insert = this.db.prepare(
      'INSERT INTO products (id, initial, stock, fence) VALUES (?, ?, ?, 0)',
    );
    this.db.transaction(() => {
      for (const p of products) insert.run(p.id, p.stock, p.stock);
    })();
  }

  /** Records an acknowledged enqueue (batched: one transaction per tick of the driver). */
  accepted(row: EnqueuedRow): void {
    this.pending.push(row);
    this.flushing ??= sleep(20).then(() => this.flushNow());
  }

  async flush(): Promise<void> {
    await this.flushing;
    if (this.pending.length > 0) await this.flushNow();
  }

  private async flushNow(): Promise<void> {
    const rows = this.pending.splice(0);
    try {
      await write(this.db, () => {
        for (const r of rows) this.insertEnqueued.run(r);
      });
    } finally {
      this.flushing = undefined;
    }
  }

  async fault(
    kind: string,
    pod: string | null,
    pid: number | null,
    at: number,
    until: number | null = null,
    detail: string | null = null,
  ): Promise<number> {
    return write(this.db, () =>
      Number(this.insertFault.run(kind, pod, pid, at, until, detail).lastInsertRowid),
    );
  }

  /**
   * True when the write lock can be taken within `timeoutMs` (it is taken and released at once):
   * false while some process holds it, e.g. one stopped in the middle of a transaction.
   */
  async canWrite(timeoutMs: number): Promise<boolean> {
    try {
      await write(this.db, () => undefined, timeoutMs);
      return true;
    } catch (err) {
      if (isBusy(err)) return false;
      throw err;
    }
  }

  async setFaultEnd(id: number, until: number): Promise<void> {
    await write(this.db, () => {
      this.db.prepare('UPDATE faults SET until = ? WHERE id = ?').run(until, id);
    });
  }

  /** Open executions (started, not ended) per pid, started after `since`. */
  openExecutions(since: number): { pid: number; entity: string; start: number }[] {
    return this.db
      .prepare<[number], { pid: number; entity: string; start: number }>(
        "SELECT pid, entity, start FROM executions WHERE outcome = 'running' AND start > ?",
      )
      .all(since);
  }

  /**
   * Accepted jobs expected to commit that have no business effect yet, but for those a data loss
   * dropped (acknowledged before it).
   */
  unappliedCount(): number {
    const row = this.db
      .prepare<[string], { n: number }>(
        `SELECT count(*) AS n FROM enqueued e
         WHERE e.expect = 'commit'
           AND NOT EXISTS (SELECT 1 FROM applied a WHERE a.business_id = e.business_id)
           AND NOT EXISTS (SELECT 1 FROM faults f WHERE f.kind = ? AND e.acked_at < f.at)`,
      )
      .get(DATA_LOSS);
    return row?.n ?? 0;
  }

  appliedCount(): number {
    return this.db.prepare<[], { n: number }>('SELECT count(*) AS n FROM applied').get()?.n ?? 0;
  }

  executionsOf(jobId: string): ExecutionRow[] {
    return this.db
      .prepare<[string], ExecutionRow>('SELECT * FROM executions WHERE job_id = ? ORDER BY start')
      .all(jobId);
  }

  dump(): OracleDump {
    const all = <T>(sql: string): T[] => this.db.prepare<[], T>(sql).all();
    return {
      products: all<ProductRow>('SELECT * FROM products'),
      applied: all<AppliedRow>('SELECT * FROM applied ORDER BY commit_seq'),
      executions: all<ExecutionRow>('SELECT * FROM executions ORDER BY start'),
      enqueued: all<EnqueuedRow>('SELECT * FROM enqueued'),
      faults: all<FaultRow>('SELECT * FROM faults ORDER BY at'),
    };
  }

  close(): void {
    this.db.close();
  }
}
