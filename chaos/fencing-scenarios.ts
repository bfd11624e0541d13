/**
 * Fault scenarios about fencing tokens when Redis itself fails: it loses its data (12), it
 * stalls past every lease (13). Built like the stock scenarios (scenarios.ts) and checked
 * against the same oracle, plus each one's own checks.
 */
import { sleep } from '../support/async';
import type { ScenarioEnv } from './harness';
import { DATA_LOSS, type ExecutionRow, type FaultRow, type OracleDump } from './oracle';
import {
  STOCK,
  recoveryCheck,
  stockProducts,
  stockScenario,
  ttlMs,
  waitUntil,
  withLoad,
  type Scenario,
} from './scenarios';
import { now } from './util';

/** Executions that were running when `f` began. */
function spanning(dump: OracleDump, f: FaultRow): ExecutionRow[] {
  return dump.executions.filter((e) => e.start < f.at && (e.end === null || e.end > f.at));
}

/** Restarts the scenario's Redis empty (kill -9, data files deleted), no enqueue in flight. */
async function wipeRedis(env: ScenarioEnv): Promise<void> {
  const resume = await env.holdEnqueues();
  try {
    const at = now();
    const pid = env.redis.pid;
    env.redis.kill('SIGKILL');
    await env.redis.restart({ wipe: true });
    await env.oracle.fault(DATA_LOSS, 'redis', pid, at, now());
  } finally {
    resume();
  }
}

// ── 12. Redis loses its data ─────────────────────────────────────────────────

const dataLoss = stockScenario(
  13,
  'data-loss',
  'Redis restarted empty (no persistence) while jobs run: fencing tokens never go back',
  () => ({ entities: { [STOCK]: { idleTimeoutSeconds: 1, maxStalledCount: 50 } } }),
  async (env) => {
    const quick = env.params.quick;
    const wipes = quick ? 1 : 3;
    const products = stockProducts(env, quick ? 8 : 12);
    // Still running when the entity's next job, sent after the loss, starts on a new holder.
    const longMs = (quick ? 3 : 5) * ttlMs(env);
    let done = 0;
    await withLoad(
      env,
      { entities: products, intervalMs: 500, msRange: [50, 250] },
      async () => {
        for (let i = 0; i < wipes && !env.expired(); i++) {
          await sleep((quick ? 500 : 1500) + env.random() * 1000);
          const targets = [...products].sort(() => env.random() - 0.5).slice(0, 2);
          const long: string[] = [];
          for (const entity of targets) {
            const id = `o.${entity}.${env.peekSeq(entity)}`;
            if (await env.enqueue(STOCK, entity, { ms: longMs })) long.push(id);
          }
          await waitUntil(
            env,
            () => long.every((id) => env.oracle.executionsOf(id).length > 0),
            15_000,
            25,
          );
          await wipeRedis(env);
          done += 1;
        }
      },
      longMs + (quick ? 500 : 2000),
    );
    return {
      faults: done,
      details: { wipes: done, longJobMs: longMs },
      after: (e, m, dump) => {
        e.check(`${wipes} restarts without data`, done >= wipes, `${done}`);
        e.check(
          'tokens handed out after a loss are larger than every token before it',
          m.details.tokensWentBack === 0,
          `${m.details.tokensWentBack}`,
        );
        const losses = dump.faults.filter((f) => f.kind === DATA_LOSS);
        const last = Math.max(...losses.map((f) => f.until ?? f.at));
        const acked = dump.enqueued.filter((x) => x.acked_at > last).length;
        e.check('the producer enqueued again after the loss', acked > 0, `${acked} acks`);
        // A job running across the loss whose entity got a new holder before it ended: the
        // store must refuse it (the new holder has the larger token).
        const stale: string[] = [];
        const fenced = new Set<number>();
        for (const f of losses) {
          for (const old of spanning(dump, f)) {
            const replaced = dump.executions.some(
              (x) =>
                x.entity === old.entity &&
                x.start > (f.until ?? f.at) &&
                x.start < (old.end ?? Infinity),
            );
            if (!replaced) continue;
            if (old.outcome === 'fenced') fenced.add(old.id);
            else stale.push(`${old.entity} job ${old.job_id} token ${old.fence} ${old.outcome}`);
          }
        }
        e.check(
          'jobs running across a loss, once their entity had a new holder, were fenced',
          stale.length === 0 && fenced.size > 0,
          `${fenced.size} fenced; not fenced: ${stale.join(', ')}`,
        );
        recoveryCheck(e, m);
      },
    };
  },
);

// ── 13. Redis stalls past every lease ────────────────────────────────────────

const benignPause = stockScenario(
  14,
  'benign-pause',
  'Redis stalled (SIGSTOP) for 2 x heartbeatTTL mid-job: nobody took over, jobs run once',
  () => ({ entities: { [STOCK]: { idleTimeoutSeconds: 3, maxStalledCount: 50 } } }),
  async (env) => {
    const quick = env.params.quick;
    const stalls = quick ? 2 : 5;
    const products = stockProducts(env, quick ? 9 : 12);
    const stallMs = 2 * ttlMs(env);
    let done = 0;
    await withLoad(
      env,
      { entities: products, intervalMs: 250, msRange: [100, 400] },
      async () => {
        for (let i = 0; i < stalls && !env.expired(); i++) {
          await sleep((quick ? 300 : 1000) + env.random() * (quick ? 500 : 1000));
          await env.waitForBusyPod();
          const at = now();
          const pid = env.redis.pid;
          env.redis.kill('SIGSTOP');
          try {
            await sleep(stallMs);
          } finally {
            env.redis.kill('SIGCONT');
          }
          await env.oracle.fault('redis-stall', 'redis', pid, at, now());
          done += 1;
        }
      },
      quick ? 1000 : 2500,
    );
    const idleMs = 3000;
    return {
      faults: done,
      details: { stalls: done, stallMs },
      after: (e, m, dump) => {
        e.check(`${stalls} Redis stalls`, done >= stalls, `${done}`);
        const runs = new Map<string, number>();
        for (const x of dump.executions)
          if (x.outcome !== 'threw') runs.set(x.job_id, (runs.get(x.job_id) ?? 0) + 1);
        const twice = [...runs].filter(([, n]) => n > 1).map(([id]) => id);
        e.check('no job ran twice', twice.length === 0, twice.slice(0, 10).join(', '));
        e.check('nothing to fence', m.fencedWrites === 0, `${m.fencedWrites} fenced writes`);
        const lostLeases = e.countInLogs(/lease lost/);
        e.check('no lease lost', lostLeases === 0, `${lostLeases} lease:lost`);
        // The holder of an entity mid-job at a stall keeps it: its next job, before it could
        // idle out, runs with the same token.
        const moved: string[] = [];
        let caught = 0;
        for (const f of dump.faults.filter((x) => x.kind === 'redis-stall')) {
          const until = f.until ?? f.at;
          for (const held of spanning(dump, f)) {
            caught += 1;
            const next = dump.executions.find(
              (x) => x.entity === held.entity && x.start > until && x.start < until + idleMs,
            );
            if (next && next.fence !== held.fence)
              moved.push(`${held.entity}: token ${held.fence} → ${next.fence}`);
          }
        }
        e.check('the stalls caught jobs mid-flight', caught > 0, `${caught} executions`);
        e.check(
          'entities held across a stall kept their token',
          moved.length === 0,
          moved.join('; '),
        );
        recoveryCheck(e, m);
      },
    };
  },
);

export const FENCING_SCENARIOS: Scenario[] = [dataLoss, benignPause];
