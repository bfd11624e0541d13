/**
 * The demo's traffic: a reproducible random mix of withdrawals, deposits and transfers, fired
 * over HTTP at the pods (round robin) with a bounded number in flight, on Node's global fetch
 * (keep-alive connections).
 */
import { mapLimit } from '../../../support/async';
import { seededRandom } from '../../../support/random';

export type OperationKind = 'withdraw' | 'deposit' | 'transfer';

export interface PlannedOperation {
  /** Index in the plan. */
  n: number;
  kind: OperationKind;
  account: string;
  /** Destination of a transfer. */
  to?: string;
  amount: number;
  /** Idempotency key sent with the request (operation id or transfer id). */
  id: string;
}

export interface OperationResult {
  op: PlannedOperation;
  /** Pod the request was sent to. */
  pod: string;
  /** HTTP status, or 0 when no answer came (connection error, timeout). */
  status: number;
  /** Error text for status 0 or an unexpected status. */
  error?: string;
}

export interface TrafficPlanOptions {
  operations: number;
  accounts: readonly string[];
  /** PRNG seed: the same seed gives the same plan. */
  seed: number;
  /** Largest amount of one operation (amounts are 1..maxAmount). */
  maxAmount: number;
  /** Prefix of idempotency keys, unique per run. */
  runId: string;
  /** Shares of withdrawals and deposits; the rest are transfers. */
  mix?: { withdraw: number; deposit: number };
}

export function planTraffic(o: TrafficPlanOptions): PlannedOperation[] {
  const random = seededRandom(o.seed);
  const pick = (): string => o.accounts[Math.floor(random() * o.accounts.length)];
  const mix = o.mix ?? { withdraw: 0.3, deposit: 0.3 };
  const plan: PlannedOperation[] = [];
  for (let n = 0; n < o.operations; n++) {
    const r = random();
    const account = pick();
    const amount = 1 + Math.floor(random() * o.maxAmount);
    const id = `${o.runId}-${n}`;
    if (r < mix.withdraw) plan.push({ n, kind: 'withdraw', account, amount, id });
    else if (r < mix.withdraw + mix.deposit || o.accounts.length < 2)
      plan.push({ n, kind: 'deposit', account, amount, id });
    else {
      let to = pick();
      while (to === account) to = pick();
      plan.push({ n, kind: 'transfer', account, to, amount, id });
    }
  }
  return plan;
}

export interface DriveOptions {
  /** Requests in flight at once. */
  concurrency: number;
  /** Epoch ms after which no new request is sent (the rest are reported unanswered). */
  deadline: number;
  /** Per-request timeout, ms. */
  requestTimeoutMs: number;
}

function request(op: PlannedOperation): { path: string; body: Record<string, unknown> } {
  const path = `/accounts/${encodeURIComponent(op.account)}/${op.kind}`;
  if (op.kind === 'transfer')
    return { path, body: { to: op.to, amount: op.amount, transferId: op.id } };
  return { path, body: { amount: op.amount, operationId: op.id } };
}

/** Sends every planned operation; resolves with one result per operation, in plan order. */
export async function driveTraffic(
  plan: readonly PlannedOperation[],
  pods: readonly { name: string; url: string }[],
  o: DriveOptions,
): Promise<OperationResult[]> {
  return mapLimit(plan, Math.max(1, o.concurrency), async (op, i): Promise<OperationResult> => {
    const pod = pods[i % pods.length];
    if (Date.now() >= o.deadline)
      return { op, pod: pod.name, status: 0, error: 'not sent: demo deadline passed' };
    const { path, body } = request(op);
    try {
      const res = await fetch(pod.url + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(
          Math.max(1, Math.min(o.requestTimeoutMs, o.deadline - Date.now())),
        ),
      });
      const text = await res.text();
      const ok = res.status === 200 || res.status === 409;
      return { op, pod: pod.name, status: res.status, ...(ok ? {} : { error: text }) };
    } catch (err) {
      return { op, pod: pod.name, status: 0, error: String(err) };
    }
  });
}
