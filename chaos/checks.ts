/**
 * The checkers: pure functions from the oracle's rows to the scenario's numbers. Nothing here
 * reads Redis: the oracle is the only witness.
 */
import { DATA_LOSS, type ExecutionRow, type OracleDump } from './oracle';
import { percentile } from './util';

export interface Metrics {
  /** Enqueues the driver saw acknowledged. */
  accepted: number;
  /** Distinct accepted jobs whose business effect committed. */
  executed: number;
  /** Accepted jobs that must commit and never did (those a data loss dropped aside). */
  lost: number;
  /** Pairs of executions of one entity whose intervals intersect and whose writes both committed. */
  overlaps: number;
  /** Executions whose write the store refused (stale fencing token): never committed. */
  fencedWrites: number;
  /** Business effects applied more than once (extra applications). */
  duplicateEffects: number;
  /** Per entity, committed effects out of enqueue order; null where order does not apply. */
  orderInversions: number | null;
  /** Conservation: |initial - applied - stock| summed over products, plus products below zero. */
  drift: number;
  recoveryMsP50: number | null;
  recoveryMsP99: number | null;
  /** Extra detail, not part of the required fields. */
  details: MetricDetails;
}

export interface MetricDetails {
  executions: number;
  /** Executions that found their business effect already applied (re-runs after a crash). */
  reruns: number;
  /** Executions that threw (poison jobs, planned failures). */
  threw: number;
  /** Executions cut short by their process dying (never ended). */
  unfinished: number;
  /** Per entity, executions (not stale) that started before an earlier job's execution. */
  startOrderInversions: number;
  /** Poison jobs whose effect was applied anyway. */
  poisonApplied: number;
  /** Committed effects from executions the store logged as fenced (must be 0). */
  fencedCommitted: number;
  /** Distinct fencing tokens seen per entity, summed: how many times entities changed hands. */
  acquisitions: number;
  /** Accepted before a data loss (DATA_LOSS fault), never applied: dropped with Redis's data. */
  droppedByDataLoss: number;
  /**
   * Per data loss and entity, executions started after Redis came back whose token is not
   * larger than every token of the entity's executions started before the loss (must be 0).
   */
  tokensWentBack: number;
  recoverySamples: number;
  recoveryMsMax: number | null;
  /** Examples of each violation, for the report. */
  examples: string[];
}

const PER_PROCESS_FAULTS = new Set(['kill', 'stop', 'block', 'exit', 'term']);

function groupBy<T>(rows: readonly T[], key: (row: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const r of rows) {
    const k = key(r);
    const list = out.get(k);
    if (list) list.push(r);
    else out.set(k, [r]);
  }
  return out;
}

function brief(e: ExecutionRow): string {
  const end = e.end === null ? 'open' : (e.end - e.start).toFixed(1) + 'ms';
  return `${e.entity} job ${e.job_id} seq ${e.seq} pod ${e.pod} pid ${e.pid} token ${e.fence} ${e.outcome} (${end})`;
}

export function computeMetrics(dump: OracleDump, opts: { orderApplies: boolean }): Metrics {
  const examples: string[] = [];
  const note = (s: string): void => {
    if (examples.length < 12) examples.push(s);
  };
  const appliedBy = groupBy(dump.applied, (a) => a.business_id);
  const execById = new Map(dump.executions.map((e) => [e.id, e]));

  // accepted / executed / lost (or dropped with Redis's data: acknowledged before it went)
  const dataLosses = dump.faults.filter((f) => f.kind === DATA_LOSS);
  let executed = 0;
  let lost = 0;
  let droppedByDataLoss = 0;
  let poisonApplied = 0;
  for (const e of dump.enqueued) {
    const applied = appliedBy.has(e.business_id);
    if (applied && e.expect === 'commit') executed += 1;
    if (!applied && e.expect === 'commit') {
      if (dataLosses.some((f) => e.acked_at < f.at)) droppedByDataLoss += 1;
      else {
        lost += 1;
        note(`lost: ${e.entity} job ${e.job_id} seq ${e.seq}`);
      }
    }
    if (applied && e.expect === 'fail') {
      poisonApplied += 1;
      note(`poison job applied: ${e.job_id}`);
    }
  }

  // duplicate effects
  let duplicateEffects = 0;
  for (const [b, rows] of appliedBy) {
    if (rows.length > 1) {
      duplicateEffects += rows.length - 1;
      note(`effect ${b} applied ${rows.length} times`);
    }
  }

  // overlaps among committed executions, per entity
  const committed = dump.executions.filter((e) => e.outcome === 'committed');
  let overlaps = 0;
  for (const [, group] of groupBy(committed, (e) => e.entity)) {
    group.sort((a, b) => a.start - b.start);
    let running: ExecutionRow[] = [];
    for (const e of group) {
      running = running.filter((r) => (r.end ?? Infinity) > e.start);
      for (const r of running) {
        overlaps += 1;
        note(`overlap: ${brief(r)} | ${brief(e)}`);
      }
      running.push(e);
    }
  }

  const fencedWrites = dump.executions.filter((e) => e.outcome === 'fenced').length;
  let fencedCommitted = 0;
  for (const a of dump.applied) {
    const e = execById.get(a.exec_id);
    if (!e || e.outcome !== 'committed') {
      fencedCommitted += 1;
      note(`effect ${a.business_id} committed by execution ${a.exec_id} logged ${e?.outcome}`);
    }
  }

  // order: committed effects per entity in commit order must follow enqueue order (seq)
  let orderInversions = 0;
  for (const [entity, rows] of groupBy(dump.applied, (a) => a.entity)) {
    let highest = -Infinity;
    for (const a of rows) {
      if (a.seq < highest) {
        orderInversions += 1;
        note(`order: ${entity} committed seq ${a.seq} after seq ${highest}`);
      }
      highest = Math.max(highest, a.seq);
    }
  }
  // ...and executions must start in enqueue order, retries included. Stale ones aside, and
  // re-runs of an effect already applied: a new holder runs again, in order, the jobs of a batch
  // its predecessor ran but did not acknowledge before it died.
  let startOrderInversions = 0;
  const live = dump.executions.filter((e) => e.outcome !== 'fenced' && e.outcome !== 'rerun');
  for (const [entity, rows] of groupBy(live, (e) => e.entity)) {
    rows.sort((a, b) => a.start - b.start);
    let highest: ExecutionRow | undefined;
    for (const e of rows) {
      if (highest && e.seq < highest.seq) {
        startOrderInversions += 1;
        note(`start order: ${entity} ${brief(e)} started after ${brief(highest)}`);
      }
      if (!highest || e.seq > highest.seq) highest = e;
    }
  }

  // conservation
  const deducted = new Map<string, number>();
  for (const a of dump.applied) deducted.set(a.entity, (deducted.get(a.entity) ?? 0) + a.qty);
  let drift = 0;
  for (const p of dump.products) {
    const expected = p.initial - (deducted.get(p.id) ?? 0);
    if (expected !== p.stock) {
      drift += Math.abs(expected - p.stock);
      note(`drift: ${p.id} stock ${p.stock}, expected ${expected}`);
    }
    if (p.stock < 0) {
      drift += 1;
      note(`negative stock: ${p.id} ${p.stock}`);
    }
  }

  // recovery: from each fault to the next execution of the entities it interrupted
  const sentAt = new Map(dump.enqueued.map((e) => [e.job_id, e.sent_at]));
  const byEntity = groupBy(dump.executions, (e) => e.entity);
  for (const rows of byEntity.values()) rows.sort((a, b) => a.start - b.start);
  const samples: number[] = [];
  for (const f of dump.faults) {
    const perProcess = PER_PROCESS_FAULTS.has(f.kind);
    const interrupted = new Set(
      dump.executions
        .filter(
          (e) =>
            (!perProcess || e.pid === f.pid) && e.start <= f.at && (e.end === null || e.end > f.at),
        )
        .map((e) => e.entity),
    );
    for (const entity of interrupted) {
      const next = (byEntity.get(entity) ?? []).find(
        (e) => e.start > f.at && (!perProcess || e.pid !== f.pid),
      );
      if (!next) continue;
      const from = Math.max(f.at, sentAt.get(next.job_id) ?? f.at);
      samples.push(Math.max(0, next.start - from));
    }
  }

  // fencing tokens across each data loss: those handed out after it are above those before
  let tokensWentBack = 0;
  for (const f of dataLosses) {
    for (const [entity, rows] of byEntity) {
      const before = rows.filter((e) => e.start < f.at).map((e) => e.fence);
      const highest = Math.max(...before);
      for (const e of rows) {
        if (e.start > (f.until ?? f.at) && e.fence <= highest) {
          tokensWentBack += 1;
          note(`token back: ${entity} ${brief(e)} after the loss, token ${highest} before`);
        }
      }
    }
  }

  const acquisitions = [...groupBy(dump.executions, (e) => e.entity).values()].reduce(
    (n, rows) => n + new Set(rows.map((r) => r.fence)).size,
    0,
  );

  return {
    accepted: dump.enqueued.length,
    executed,
    lost,
    overlaps,
    fencedWrites,
    duplicateEffects,
    orderInversions: opts.orderApplies ? orderInversions : null,
    drift,
    recoveryMsP50: percentile(samples, 50),
    recoveryMsP99: percentile(samples, 99),
    details: {
      executions: dump.executions.length,
      reruns: dump.executions.filter((e) => e.outcome === 'rerun').length,
      threw: dump.executions.filter((e) => e.outcome === 'threw').length,
      unfinished: dump.executions.filter((e) => e.outcome === 'running').length,
      startOrderInversions,
      poisonApplied,
      fencedCommitted,
      acquisitions,
      droppedByDataLoss,
      tokensWentBack,
      recoverySamples: samples.length,
      recoveryMsMax: samples.length ? Math.round(Math.max(...samples)) : null,
      examples,
    },
  };
}
