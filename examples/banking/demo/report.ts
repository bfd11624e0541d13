import type { AccountRow, LedgerRow, TransferRow } from '../store/bank-store';
import type { OperationResult } from './traffic';

/** What the store holds at the end of a run. */
export interface StoreSnapshot {
  accounts: AccountRow[];
  ledger: LedgerRow[];
  transfers: TransferRow[];
}

export interface AccountLine {
  id: string;
  opening: number;
  balance: number;
  /** Opening balance plus every answered (HTTP 200) operation on the account. */
  expected: number;
  /** Opening balance plus every operation in the store's ledger. */
  ledgerExpected: number;
  rejected: number;
  /** Lowest balance the account ever had (opening balance and every balance written). */
  lowest: number;
}

export interface PodLine {
  name: string;
  pid: number;
  /** HTTP requests the demo sent to this pod (all answered unless `errors` says otherwise). */
  requests: number;
  /** Ledger rows written by this pod: the jobs it ran, wherever they were enqueued. */
  applied: number;
  /** Accounts whose last job this pod ran: the ones it held at the end (rebalancing, G5). */
  accountsAtEnd: number;
}

export interface DemoReport {
  withoutLibrary: boolean;
  accounts: AccountLine[];
  pods: PodLine[];
  operations: { total: number; ok: number; rejected: number; errors: number };
  errorSamples: string[];
  /** Seconds from the first request to the last answer. */
  trafficSeconds: number;
  /** Seconds from the first request until every transfer was credited (or the deadline). */
  settledSeconds: number;
  opsPerSecond: number;
  transfers: { requested: number; debited: number; credited: number; pending: number };
  money: {
    initial: number;
    deposits: number;
    withdrawals: number;
    expected: number;
    actual: number;
  };
  /** HTTP answers and ledger rows tell the same story (every 200 applied once, no 409 applied). */
  ledgerMatchesAnswers: boolean;
  balancesMatchLedger: boolean;
  lowest: number;
  conserved: boolean;
  /** The demo's verdict: conserved, never negative, every request answered. */
  ok: boolean;
}

export interface ReportInput {
  withoutLibrary: boolean;
  results: OperationResult[];
  store: StoreSnapshot;
  pods: { name: string; pid: number }[];
  trafficSeconds: number;
  settledSeconds: number;
}

/** Ledger operation ids an answered operation must have produced. */
function ledgerIds(r: OperationResult): string[] {
  const { op } = r;
  if (op.kind === 'withdraw') return [`withdrawal:${op.id}`];
  if (op.kind === 'deposit') return [`deposit:${op.id}`];
  return [`transfer:${op.id}:debit`, `transfer:${op.id}:credit`];
}

export function buildReport(input: ReportInput): DemoReport {
  const { results, store } = input;
  const byId = new Map(store.accounts.map((a) => [a.id, a]));
  const expected = new Map(store.accounts.map((a) => [a.id, a.openingBalance]));
  const rejected = new Map<string, number>();
  const add = (id: string | undefined, delta: number): void => {
    if (id !== undefined) expected.set(id, (expected.get(id) ?? 0) + delta);
  };
  let deposits = 0;
  let withdrawals = 0;
  const count = { ok: 0, rejected: 0, errors: 0 };
  const errorSamples: string[] = [];
  const ledgerOps = new Set(store.ledger.map((l) => l.operationId));
  let ledgerMatchesAnswers = true;
  for (const r of results) {
    const { op } = r;
    if (r.status === 200) {
      count.ok += 1;
      if (op.kind === 'deposit') {
        deposits += op.amount;
        add(op.account, op.amount);
      } else {
        add(op.account, -op.amount);
        if (op.kind === 'withdraw') withdrawals += op.amount;
        else add(op.to, op.amount);
      }
      if (!ledgerIds(r).every((id) => ledgerOps.has(id))) ledgerMatchesAnswers = false;
    } else if (r.status === 409) {
      count.rejected += 1;
      rejected.set(op.account, (rejected.get(op.account) ?? 0) + 1);
      if (ledgerIds(r).some((id) => ledgerOps.has(id))) ledgerMatchesAnswers = false;
    } else {
      count.errors += 1;
      if (errorSamples.length < 5)
        errorSamples.push(`${op.kind} ${op.account} → ${r.pod}: ${r.status} ${r.error ?? ''}`);
    }
  }

  const ledgerSum = new Map<string, number>();
  const lowest = new Map(store.accounts.map((a) => [a.id, a.openingBalance]));
  const applied = new Map<string, number>();
  // The ledger is in write order: an account's last row names the pod that held it last.
  const lastPod = new Map<string, string>();
  for (const l of store.ledger) {
    lastPod.set(l.accountId, l.pod);
    ledgerSum.set(l.accountId, (ledgerSum.get(l.accountId) ?? 0) + l.amount);
    lowest.set(l.accountId, Math.min(lowest.get(l.accountId) ?? 0, l.balanceAfter));
    applied.set(l.pod, (applied.get(l.pod) ?? 0) + 1);
  }

  const accounts: AccountLine[] = [...byId.values()].map((a) => ({
    id: a.id,
    opening: a.openingBalance,
    balance: a.balance,
    expected: expected.get(a.id) ?? 0,
    ledgerExpected: a.openingBalance + (ledgerSum.get(a.id) ?? 0),
    rejected: rejected.get(a.id) ?? 0,
    lowest: Math.min(lowest.get(a.id) ?? 0, a.balance),
  }));
  const initial = sum(accounts.map((a) => a.opening));
  const actual = sum(accounts.map((a) => a.balance));
  const transfersRequested = results.filter((r) => r.op.kind === 'transfer').length;
  const pending = store.transfers.filter((t) => t.creditedAt === null).length;
  const money = {
    initial,
    deposits,
    withdrawals,
    expected: initial + deposits - withdrawals,
    actual,
  };
  const conserved = money.actual === money.expected && pending === 0;
  const lowestEver = Math.min(...accounts.map((a) => a.lowest));
  const balancesMatchLedger = accounts.every((a) => a.balance === a.ledgerExpected);
  return {
    withoutLibrary: input.withoutLibrary,
    accounts,
    pods: input.pods.map((p) => ({
      name: p.name,
      pid: p.pid,
      requests: results.filter((r) => r.pod === p.name).length,
      applied: applied.get(p.name) ?? 0,
      accountsAtEnd: [...lastPod.values()].filter((pod) => pod === p.name).length,
    })),
    operations: { total: results.length, ...count },
    errorSamples,
    trafficSeconds: input.trafficSeconds,
    settledSeconds: input.settledSeconds,
    opsPerSecond: results.length / Math.max(input.trafficSeconds, 1e-3),
    transfers: {
      requested: transfersRequested,
      debited: store.transfers.length,
      credited: store.transfers.length - pending,
      pending,
    },
    money,
    ledgerMatchesAnswers,
    balancesMatchLedger,
    lowest: lowestEver,
    conserved,
    ok: conserved && lowestEver >= 0 && count.errors === 0 && balancesMatchLedger,
  };
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** Left-aligns the first column, right-aligns the others. */
function table(header: string[], rows: (string | number)[][]): string[] {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const line = (r: string[]): string =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)];
}

const yes = (b: boolean): string => (b ? 'yes' : 'no');

/** The demo's printout; its last line is exactly `money conserved: yes` or `money conserved: no`. */
export function renderReport(r: DemoReport): string {
  const out: string[] = [];
  out.push(
    ...table(
      ['account', 'opening', 'balance', 'expected', 'drift', 'rejected (409)', 'lowest ever'],
      [
        ...r.accounts.map((a) => [
          a.id,
          a.opening,
          a.balance,
          a.expected,
          signed(a.balance - a.expected),
          a.rejected,
          a.lowest,
        ]),
        [
          'total',
          r.money.initial,
          r.money.actual,
          r.money.expected,
          signed(r.money.actual - r.money.expected),
          r.operations.rejected,
          r.lowest,
        ],
      ],
    ),
  );
  out.push('expected = opening + answered deposits − withdrawals ± transfers (from HTTP results)');
  out.push('');
  out.push(
    ...table(
      ['pod', 'pid', 'HTTP requests', 'jobs applied', 'accounts held at the end'],
      r.pods.map((p) => [p.name, p.pid, p.requests, p.applied, p.accountsAtEnd]),
    ),
  );
  out.push('');
  const o = r.operations;
  out.push(
    `requests:    ${o.total} in ${r.trafficSeconds.toFixed(2)} s = ${Math.round(r.opsPerSecond)} ops/s ` +
      `(200: ${o.ok}, 409: ${o.rejected}, errors: ${o.errors}); settled after ${r.settledSeconds.toFixed(2)} s`,
  );
  for (const e of r.errorSamples) out.push(`  error: ${e}`);
  const t = r.transfers;
  out.push(
    `transfers:   ${t.requested} requested, ${t.debited} debited, ${t.credited} credited once, ${t.pending} credit(s) pending`,
  );
  const m = r.money;
  out.push(
    `money:       ${m.initial} initial + ${m.deposits} deposited − ${m.withdrawals} withdrawn = ${m.expected} expected; ${m.actual} in the accounts`,
  );
  out.push(`ledger agrees with the HTTP answers: ${yes(r.ledgerMatchesAnswers)}`);
  out.push(`balances agree with the ledger:      ${yes(r.balancesMatchLedger)}`);
  out.push(`a balance went negative:             ${yes(r.lowest < 0)}`);
  if (r.withoutLibrary)
    out.push(
      'mode: --without-library (handlers called directly and concurrently, no queues): drift is ' +
        'the expected outcome, and this mode exits 1 when money is not conserved',
    );
  out.push(`money conserved: ${yes(r.conserved)}`);
  return out.join('\n');
}

function signed(n: number): string {
  return n > 0 ? `+${n}` : String(n);
}
