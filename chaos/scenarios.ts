/**
 * The fault scenarios. Each builds its world (ScenarioEnv), runs a stock workload, injects its
 * fault, waits for the backlog to drain (bounded), then checks the oracle: the required numbers
 * (lost, overlaps, order, drift) and the scenario's own checks.
 */
import { sleep, until } from '../support/async';
import { now } from './util';
import { computeMetrics, type Metrics } from './checks';
import { ScenarioEnv, type Check, type EnvOptions, type RunParams, PREFIX } from './harness';
import type { OracleDump } from './oracle';
import { percentile } from './util';

export interface ScenarioResult {
  name: string;
  number: number;
  title: string;
  ok: boolean;
  accepted: number;
  executed: number;
  lost: number;
  /** null where not measured (scenario 10: the example's store logs commits, not intervals). */
  overlaps: number | null;
  fencedWrites: number | null;
  duplicateEffects: number;
  orderInversions: number | null;
  drift: number;
  recoveryMsP50: number | null;
  recoveryMsP99: number | null;
  faultsInjected: number;
  durationMs: number;
  checks: Check[];
  details: Record<string, unknown>;
  error?: string;
}

export interface Scenario {
  number: number;
  name: string;
  title: string;
  run(params: RunParams): Promise<ScenarioResult>;
}

type Body = (env: ScenarioEnv) => Promise<{
  faults: number;
  orderApplies?: boolean;
  after?: (env: ScenarioEnv, metrics: Metrics, dump: OracleDump) => void;
  details?: Record<string, unknown>;
  /** Required checks reported without failing the run (the scenario says why). */
  soft?: readonly string[];
}>;

export const STOCK = 'stock';
const HELD = 'held';

export function ids(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${i}`);
}

export function ttlMs(env: ScenarioEnv): number {
  return env.params.heartbeatTTL * 1000;
}

/** How long a dead pod's entities may take to move, with a generous margin for a loaded host. */
function recoveryBudgetMs(env: ScenarioEnv): number {
  return ttlMs(env) + env.params.cronInterval + 5000;
}

function settleMs(env: ScenarioEnv): number {
  return env.params.quick ? 30_000 : 60_000;
}

/** Required of every scenario, and the result record. */
function conclude(
  scenario: { number: number; name: string; title: string },
  env: ScenarioEnv,
  metrics: Metrics,
  faults: number,
  details: Record<string, unknown>,
  orderApplies: boolean,
  soft: readonly string[] = [],
): ScenarioResult {
  const m = metrics;
  const d = m.details;
  const checks: Check[] = [
    { name: 'accepted > 0', ok: m.accepted > 0, detail: `${m.accepted}` },
    { name: 'lost = 0', ok: m.lost === 0, detail: `${m.lost}` },
    { name: 'overlaps = 0', ok: m.overlaps === 0, detail: `${m.overlaps}` },
    { name: 'drift = 0', ok: m.drift === 0, detail: `${m.drift}` },
    {
      name: 'duplicateEffects = 0',
      ok: m.duplicateEffects === 0,
      detail: `${m.duplicateEffects}`,
    },
    {
      name: 'fenced writes never committed',
      ok: d.fencedCommitted === 0,
      detail: `${d.fencedCommitted}`,
    },
    { name: 'poison jobs never applied', ok: d.poisonApplied === 0, detail: `${d.poisonApplied}` },
  ];
  if (orderApplies) {
    checks.push(
      { name: 'orderInversions = 0', ok: m.orderInversions === 0, detail: `${m.orderInversions}` },
      {
        name: 'executions start in enqueue order',
        ok: d.startOrderInversions === 0,
        detail: `${d.startOrderInversions}`,
      },
    );
  }
  checks.push(...env.checks);
  for (const c of checks) if (soft.includes(c.name)) c.soft = true;
  const ok = checks.every((c) => c.ok || c.soft);
  return {
    name: scenario.name,
    number: scenario.number,
    title: scenario.title,
    ok,
    accepted: m.accepted,
    executed: m.executed,
    lost: m.lost,
    overlaps: m.overlaps,
    fencedWrites: m.fencedWrites,
    duplicateEffects: m.duplicateEffects,
    orderInversions: m.orderInversions,
    drift: m.drift,
    recoveryMsP50: m.recoveryMsP50,
    recoveryMsP99: m.recoveryMsP99,
    faultsInjected: faults,
    durationMs: Math.round(env.elapsed()),
    checks,
    details: {
      ...d,
      enqueueErrors: env.enqueueErrors,
      leaseLostEvents: env.countInLogs(/lease lost/),
      engineErrors: env.countInLogs(/engine error \(/),
      ...details,
    },
  };
}

export function failedResult(
  scenario: { number: number; name: string; title: string },
  error: unknown,
  durationMs: number,
): ScenarioResult {
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return {
    name: scenario.name,
    number: scenario.number,
    title: scenario.title,
    ok: false,
    accepted: 0,
    executed: 0,
    lost: 0,
    overlaps: 0,
    fencedWrites: 0,
    duplicateEffects: 0,
    orderInversions: null,
    drift: 0,
    recoveryMsP50: null,
    recoveryMsP99: null,
    faultsInjected: 0,
    durationMs: Math.round(durationMs),
    checks: [{ name: 'scenario ran to the end', ok: false, detail: message }],
    details: {},
    error: message,
  };
}

/** Runs a stock scenario: env, pods, body, drain, checks; always disposes of everything. */
export function stockScenario(
  number: number,
  name: string,
  title: string,
  options: (params: RunParams) => EnvOptions,
  body: Body,
): Scenario {
  const scenario = { number, name, title };
  return {
    ...scenario,
    async run(params) {
      const t0 = now();
      let env: ScenarioEnv | undefined;
      try {
        env = await ScenarioEnv.create(name, params, options(params));
        await env.startPods();
        const outcome = await body(env);
        const drained = await env.settle(settleMs(env));
        env.check('backlog drained before the deadline', drained, drained ? '' : 'see lost');
        const orderApplies = outcome.orderApplies ?? true;
        const { metrics, dump } = await env.finish(orderApplies);
        outcome.after?.(env, metrics, dump);
        return conclude(
          scenario,
          env,
          metrics,
          outcome.faults,
          outcome.details ?? {},
          orderApplies,
          outcome.soft,
        );
      } catch (err) {
        return failedResult(scenario, err, now() - t0);
      } finally {
        await env?.dispose();
      }
    },
  };
}

/** Soft by default (timing under load); hard where the recovery time is what is tested. */
export function recoveryCheck(env: ScenarioEnv, metrics: Metrics, soft = true): void {
  const budget = recoveryBudgetMs(env);
  env.check(
    `recovery p99 within heartbeatTTL + cronInterval + 5 s (${budget} ms)`,
    metrics.recoveryMsP99 === null || metrics.recoveryMsP99 <= budget,
    `p99 ${metrics.recoveryMsP99} ms over ${metrics.details.recoverySamples} samples`,
    soft,
  );
}

/** Runs the background stock load while `inject` runs, then a little longer. */
export async function withLoad(
  env: ScenarioEnv,
  load: { entities: string[]; intervalMs: number; msRange?: [number, number] },
  inject: () => Promise<void>,
  tailMs = 1500,
): Promise<void> {
  let stop = false;
  const running = env.load({
    type: STOCK,
    entities: load.entities,
    intervalMs: load.intervalMs,
    msRange: load.msRange,
    stop: () => stop,
  });
  try {
    await sleep(1000);
    await inject();
    await sleep(tailMs);
  } finally {
    stop = true;
    await running;
  }
}

export function stockProducts(env: ScenarioEnv, n: number): string[] {
  const products = ids('p', n);
  env.seedProducts(products, () => 150 + Math.floor(env.random() * 250));
  return products;
}

// ── 1. kill -9 a pod mid-job ─────────────────────────────────────────────────

const killPod = stockScenario(
  1,
  'kill-pod',
  'kill -9 a random pod mid-job every few seconds',
  () => ({ entities: { [STOCK]: { idleTimeoutSeconds: 3, maxStalledCount: 50 } } }),
  async (env) => {
    const kills = env.params.quick ? 4 : 20;
    const every = env.params.quick ? 2000 : 3000;
    const products = stockProducts(env, env.params.quick ? 9 : 12);
    let done = 0;
    let midJob = 0;
    await withLoad(env, { entities: products, intervalMs: 250 }, async () => {
      for (let i = 0; i < kills && !env.expired(); i++) {
        await sleep(every * (0.6 + 0.8 * env.random()));
        const pick = await env.waitForBusyPod();
        const at = now();
        await pick.pod.kill();
        done += 1;
        if (pick.midJob) midJob += 1;
        await env.oracle.fault(
          'kill',
          pick.pod.name,
          pick.pod.pid,
          at,
          null,
          pick.midJob ? 'mid-job' : 'idle',
        );
        env.restartLater(env.slotOf(pick.pod), 300);
      }
    });
    return {
      faults: done,
      details: { kills: done, midJobKills: midJob },
      after: (e, m) => {
        e.check(`at least ${kills} kills`, done >= kills, `${done}`);
        e.check('most kills landed mid-job', midJob * 2 >= done, `${midJob}/${done}`);
        recoveryCheck(e, m);
      },
    };
  },
);

// ── 2. SIGSTOP past the lease, then SIGCONT ──────────────────────────────────

const sigstop = stockScenario(
  2,
  'sigstop',
  'SIGSTOP a pod for 2 x heartbeatTTL, then SIGCONT',
  () => ({
    entities: {
      [STOCK]: { idleTimeoutSeconds: 3, maxStalledCount: 50 },
      // Held idle long enough that the paused holder still holds it when it wakes up.
      [HELD]: { idleTimeoutSeconds: 30, maxStalledCount: 50 },
    },
  }),
  async (env) => {
    const stops = env.params.quick ? 2 : 8;
    const products = stockProducts(env, env.params.quick ? 9 : 12);
    const pauseMs = 2 * ttlMs(env);
    env.seedProducts(['w0'], () => 1000);
    let done = 0;
    let midJob = 0;
    let idleHolder = false;
    await withLoad(
      env,
      { entities: products, intervalMs: 250, msRange: [100, 300] },
      async () => {
        for (let i = 0; i < stops && !env.expired(); i++) {
          await sleep(1000 + env.random() * 1000);
          const pick = await env.waitForBusyPod();
          const at = await env.freeze(pick.pod);
          await env.oracle.fault('stop', pick.pod.name, pick.pod.pid, at, at + pauseMs);
          await sleep(pauseMs - (now() - at));
          pick.pod.signal('SIGCONT');
          done += 1;
          if (pick.midJob) midJob += 1;
        }
        if (!env.expired()) idleHolder = await pauseIdleHolder(env, pauseMs);
        if (idleHolder) done += 1;
      },
      2500,
    );
    return {
      faults: done,
      details: { stops: done, midJobStops: midJob, idleHolderStop: idleHolder, pauseMs },
      after: (e, m) => {
        e.check(`at least ${stops} SIGSTOPs`, done >= stops, `${done}`);
        e.check('most stops landed mid-job', midJob * 2 >= done, `${midJob}/${done}`);
        e.check(
          'a pod was also paused while holding an entity idle, a wake-up on its way',
          idleHolder,
          '',
        );
        e.check(
          'a stopped pod ran on after its lease and its write was fenced',
          m.fencedWrites > 0,
          `${m.fencedWrites} fenced writes`,
          true,
        );
        recoveryCheck(e, m);
      },
    };
  },
);

/**
 * Pauses the pod that holds entity `w0` (type `held`, idle timeout 30 s) idle, right after a job for `w0` was enqueued (so a
 * wake-up for that pod is on its way); lets another pod take `w0` over and start a long job
 * with one more job behind it; then resumes the paused pod. The job behind must still run, in
 * order (the final drain and the oracle check it).
 */
async function pauseIdleHolder(env: ScenarioEnv, pauseMs: number): Promise<boolean> {
  const applied = (job: string): boolean =>
    (env.oracle.db
      .prepare<[string], { n: number }>('SELECT count(*) AS n FROM applied WHERE job_id = ?')
      .get(job)?.n ?? 0) > 0;
  const wait = (ok: () => boolean, ms: number): Promise<boolean> => waitUntil(env, ok, ms, 25);
  const first = `o.w0.${env.peekSeq('w0')}`;
  if (!(await env.enqueue(HELD, 'w0', { ms: 10 })) || !(await wait(() => applied(first), 15_000)))
    return false;
  const holderPid = env.oracle.executionsOf(first)[0]?.pid;
  const holder = env.alivePods().find((p) => p.pid === holderPid);
  if (!holder) return false;
  await sleep(300); // let it finish the job and mark the entity idle
  const at = await env.freeze(holder);
  try {
    await env.oracle.fault('stop', holder.name, holder.pid, at, null, 'idle holder of w0');
    const second = `o.w0.${env.peekSeq('w0')}`;
    await env.enqueue(HELD, 'w0', { ms: 10 }); // wakes the paused holder (its lease still holds)
    if (!(await wait(() => applied(second), 20_000))) return false; // taken over elsewhere
    const long = `o.w0.${env.peekSeq('w0')}`;
    await env.enqueue(HELD, 'w0', { ms: 3 * ttlMs(env) });
    await wait(() => env.oracle.executionsOf(long).length > 0, 10_000);
    await env.enqueue(HELD, 'w0', { ms: 10 }); // waits behind the long job
    await env.oracle.flush();
    await sleep(pauseMs - (now() - at));
    return true;
  } finally {
    holder.signal('SIGCONT');
  }
}

// ── 3. a handler that blocks the event loop ──────────────────────────────────

const blockedLoop = stockScenario(
  3,
  'blocked-loop',
  'a handler blocks the event loop (busy loop) for 2 x heartbeatTTL',
  () => ({ entities: { [STOCK]: { idleTimeoutSeconds: 3, maxStalledCount: 50 } } }),
  async (env) => {
    const blocks = env.params.quick ? 2 : 6;
    const products = stockProducts(env, env.params.quick ? 8 : 12);
    const blockMs = 2 * ttlMs(env);
    let sent = 0;
    const blockFaults = (): number =>
      env.oracle.db
        .prepare<[], { n: number }>("SELECT count(*) AS n FROM faults WHERE kind = 'block'")
        .get()?.n ?? 0;
    await withLoad(
      env,
      { entities: products, intervalMs: 300 },
      async () => {
        for (let i = 0; i < blocks && !env.expired(); i++) {
          await sleep(1000 + env.random() * 1000);
          const entity = products[Math.floor(env.random() * products.length)];
          if (await env.enqueue(STOCK, entity, { block: blockMs, ms: 20 })) sent += 1;
          // Wait for it to start blocking, then for the block to end.
          await until(() => blockFaults() >= sent, { timeoutMs: 15_000, intervalMs: 50 });
          await sleep(blockMs + 500);
        }
      },
      2500,
    );
    return {
      faults: blockFaults(),
      after: (e, m, dump) => {
        const faults = dump.faults.filter((f) => f.kind === 'block');
        e.check(`${blocks} blocking handlers ran`, faults.length >= blocks, `${faults.length}`);
        const blocked = faults.map((f) =>
          dump.executions.find(
            (x) =>
              x.pid === f.pid &&
              x.entity === f.detail &&
              x.start <= f.at &&
              (x.end ?? Infinity) >= f.at,
          ),
        );
        const fenced = blocked.filter((x) => x?.outcome === 'fenced').length;
        e.check(
          'the blocked handler woke after a takeover and its write was fenced',
          fenced > 0,
          `${fenced}/${faults.length} blocked executions fenced; outcomes: ${blocked.map((x) => x?.outcome).join(', ')}`,
          true,
        );
        recoveryCheck(e, m);
      },
    };
  },
);

// ── 4. kill -9 Redis, restart it from its AOF ────────────────────────────────

const redisRestart = stockScenario(
  4,
  'redis-restart',
  'kill -9 Redis and restart it from its AOF (appendfsync always)',
  // Pods that crash are restarted (as an orchestrator would) so the other numbers stay meaningful;
  // the crash itself fails 'no pod crashed'.
  () => ({
    entities: { [STOCK]: { idleTimeoutSeconds: 3, maxStalledCount: 50 } },
    autoRestartMs: 500,
  }),
  async (env) => {
    const restarts = env.params.quick ? 1 : 4;
    const products = stockProducts(env, env.params.quick ? 9 : 12);
    let done = 0;
    let lastRestart = 0;
    const podsAtFault = new Map<number, string>();
    await withLoad(
      env,
      { entities: products, intervalMs: 250 },
      async () => {
        for (let i = 0; i < restarts && !env.expired(); i++) {
          await sleep(2000 + env.random() * 1000);
          for (const p of env.alivePods()) podsAtFault.set(p.pid, p.name);
          const at = now();
          const pid = env.redis.pid;
          env.redis.kill('SIGKILL');
          await sleep(1000);
          await env.redis.restart();
          lastRestart = now();
          await env.oracle.fault('redis-kill', 'redis', pid, at, lastRestart);
          done += 1;
        }
      },
      env.params.quick ? 4000 : 5000,
    );
    return {
      faults: done,
      details: { restarts: done },
      after: (e, m, dump) => {
        e.check(`${restarts} Redis crashes`, done >= restarts, `${done}`);
        const acked = dump.enqueued.filter((x) => x.acked_at > lastRestart).length;
        e.check('the producer enqueued again after the restart', acked > 0, `${acked} acks`);
        const idle = [...podsAtFault].filter(
          ([pid]) => !dump.executions.some((x) => x.pid === pid && x.start > lastRestart),
        );
        e.check(
          'every pod reconnected by itself and ran jobs after the restart',
          idle.length === 0,
          idle.map(([, n]) => n).join(', '),
        );
        recoveryCheck(e, m);
      },
    };
  },
);

// ── 5. rolling restart ───────────────────────────────────────────────────────

const rollingRestart = stockScenario(
  5,
  'rolling-restart',
  'rolling restart: SIGTERM each pod in turn under load, then start it again',
  () => ({ entities: { [STOCK]: { idleTimeoutSeconds: 3, maxStalledCount: 50 } } }),
  async (env) => {
    const rounds = env.params.quick ? 1 : 2;
    const products = stockProducts(env, env.params.quick ? 9 : 12);
    let done = 0;
    const stopMs: number[] = [];
    await withLoad(env, { entities: products, intervalMs: 250 }, async () => {
      for (let r = 0; r < rounds; r++) {
        for (let i = 0; i < env.slots.length && !env.expired(); i++) {
          await sleep(1000 + env.random() * 500);
          const pod = env.slots[i].pod;
          if (!pod) continue;
          const at = now();
          await env.oracle.fault('term', pod.name, pod.pid, at);
          await pod.stop(30_000);
          stopMs.push(now() - at);
          done += 1;
          await env.startPod(i);
        }
      }
    });
    return {
      faults: done,
      details: { restarts: done, gracefulStopMsMax: percentile(stopMs, 100) },
      after: (e, m) => {
        const want = rounds * (env.options.pods ?? env.params.pods);
        e.check(`${want} graceful restarts`, done >= want, `${done}`);
        recoveryCheck(e, m);
      },
    };
  },
);

// ── 6. poison jobs ───────────────────────────────────────────────────────────

interface JobInfo {
  state: string;
  attemptsMade: number;
  failedReason: string;
}

async function jobInfo(
  env: ScenarioEnv,
  type: string,
  entity: string,
  jobId: string,
): Promise<JobInfo> {
  const queue = env.engine.queueName(type, entity);
  const key = (s: string): string => `${PREFIX}:${queue}:${s}`;
  const redis = env.client();
  try {
    const [failed, completed, hash] = await Promise.all([
      redis.zscore(key('failed'), jobId),
      redis.zscore(key('completed'), jobId),
      redis.hgetall(key(jobId)),
    ]);
    const state = failed !== null ? 'failed' : completed !== null ? 'completed' : 'other';
    return {
      state,
      attemptsMade: Number(hash.atm ?? hash.attemptsMade ?? 0),
      failedReason: hash.failedReason ?? '',
    };
  } finally {
    redis.disconnect();
  }
}

/** Polls `ok` every `intervalMs`: true once it holds, false after `timeoutMs` or at the run's end. */
export function waitUntil(
  env: ScenarioEnv,
  ok: () => Promise<boolean> | boolean,
  timeoutMs: number,
  intervalMs = 200,
): Promise<boolean> {
  return until(ok, { timeoutMs: Math.min(timeoutMs, Math.max(0, env.remaining())), intervalMs });
}

const poison = stockScenario(
  6,
  'poison',
  "poison jobs (always throws; exits its process): bounded attempts, failed set, 'continue' vs 'pause'",
  () => {
    const retry = { attempts: 3, backoff: { type: 'fixed' as const, delay: 100 } };
    return {
      entities: {
        [STOCK]: { idleTimeoutSeconds: 3, maxStalledCount: 50 },
        cont: { ...retry, onFailure: 'continue', maxStalledCount: 50 },
        hold: { ...retry, onFailure: 'pause', maxStalledCount: 50 },
        // Bounds the crash loop: a job found orphaned more than once is failed, not run again.
        crash: { ...retry, onFailure: 'continue', maxStalledCount: 1 },
      },
      autoRestartMs: 300,
    };
  },
  async (env) => {
    const products = stockProducts(env, 6);
    env.seedProducts(['c1', 'h1', 'x1'], () => 1000);
    const chains = {
      c1: { type: 'cont', poison: 'throw' as const, after: 3 },
      h1: { type: 'hold', poison: 'throw' as const, after: 2 },
      x1: { type: 'crash', poison: 'exit' as const, after: 3 },
    };
    const poisonId = (entity: string): string => `o.${entity}.1`;
    const enqueueChain = async (entity: keyof typeof chains): Promise<void> => {
      const c = chains[entity];
      await env.enqueue(c.type, entity);
      await env.enqueue(c.type, entity, { poison: c.poison }, 'fail');
      for (let i = 0; i < c.after; i++) await env.enqueue(c.type, entity);
      await env.oracle.flush();
    };
    const applied = (entity: string): number =>
      env.oracle.db
        .prepare<[string], { n: number }>('SELECT count(*) AS n FROM applied WHERE entity = ?')
        .get(entity)?.n ?? 0;
    const details: Record<string, unknown> = {};
    let pausedHeld = false;
    await withLoad(env, { entities: products, intervalMs: 300 }, async () => {
      // Throwing poison jobs: c1 continues after its failed job, h1 pauses.
      await Promise.all([enqueueChain('c1'), enqueueChain('h1')]);
      await waitUntil(
        env,
        async () =>
          applied('c1') === 4 &&
          (await jobInfo(env, 'hold', 'h1', poisonId('h1'))).state === 'failed',
        30_000,
      );
      await sleep(1500); // time for a wrongly continuing 'pause' entity to run its next job
      const backlog = await env.engine.getBacklog('hold', 'h1');
      pausedHeld = backlog.paused && backlog.waiting === 2 && applied('h1') === 1;
      details.pausedBacklog = backlog;
      await env.engine.resumeEntity('hold', 'h1');
      // A job that exits its process: a crash loop bounded by maxStalledCount.
      await enqueueChain('x1');
      await waitUntil(env, () => applied('x1') === 4, 30_000);
    });
    const infos = new Map<string, JobInfo>();
    for (const [entity, c] of Object.entries(chains))
      infos.set(entity, await jobInfo(env, c.type, entity, poisonId(entity)));
    details.poisonJobs = Object.fromEntries(infos);
    return {
      faults: 3,
      details,
      after: (e, _m, dump) => {
        const runs = (entity: string): number =>
          dump.executions.filter((x) => x.job_id === poisonId(entity)).length;
        for (const [entity, c] of Object.entries(chains)) {
          const info = infos.get(entity);
          e.check(
            `${entity} (${c.poison}, ${c.type}): poison job ends in failed`,
            info?.state === 'failed',
            JSON.stringify(info),
          );
        }
        e.check(
          "throwing job ran exactly `attempts` (3) times ('continue')",
          runs('c1') === 3,
          `${runs('c1')}`,
        );
        e.check(
          "throwing job ran exactly `attempts` (3) times ('pause')",
          runs('h1') === 3,
          `${runs('h1')}`,
        );
        const exits = dump.faults.filter((f) => f.kind === 'exit').length;
        e.check(
          'exiting job ran at most maxStalledCount + 1 (2) times',
          runs('x1') >= 1 && runs('x1') <= 2 && exits <= 2,
          `${runs('x1')} runs, ${exits} process exits`,
        );
        e.check(
          "'pause' held: the entity stopped after its failed job until resumed",
          pausedHeld,
          JSON.stringify(details.pausedBacklog),
        );
      },
    };
  },
);

// ── 7. retries with backoff, later jobs waiting ──────────────────────────────

const retryBackoff = stockScenario(
  7,
  'retry-backoff',
  'retries with fixed backoff while later jobs of the entity wait: order kept',
  (p) => ({
    entities: {
      retry: {
        idleTimeoutSeconds: 3,
        attempts: 4,
        backoff: { type: 'fixed', delay: p.quick ? 200 : 300 },
      },
    },
  }),
  async (env) => {
    const delay = env.params.quick ? 200 : 300;
    const entities = ids('r', env.params.quick ? 4 : 8);
    const perEntity = env.params.quick ? 6 : 12;
    env.seedProducts(entities, () => 1000);
    const failing = new Map<string, number>();
    await Promise.all(
      entities.map(async (entity) => {
        for (let i = 0; i < perEntity; i++) {
          const failTimes = env.random() < 0.35 ? 1 + Math.floor(env.random() * 3) : 0;
          const seq = i;
          if (failTimes) failing.set(`o.${entity}.${seq}`, failTimes);
          await env.enqueue('retry', entity, { failTimes, ms: 10 });
        }
      }),
    );
    return {
      faults: failing.size,
      details: { failingJobs: failing.size, backoffMs: delay },
      after: (e, _m, dump) => {
        let wrongCount = 0;
        let shortGaps = 0;
        const bad: string[] = [];
        for (const [jobId, failTimes] of failing) {
          const runs = dump.executions
            .filter((x) => x.job_id === jobId)
            .sort((a, b) => a.start - b.start);
          if (runs.length !== failTimes + 1) {
            wrongCount += 1;
            bad.push(`${jobId}: ${runs.length} runs, expected ${failTimes + 1}`);
          }
          for (let i = 1; i < runs.length; i++) {
            const gap = runs[i].start - (runs[i - 1].end ?? runs[i - 1].start);
            if (gap < delay - 20) {
              shortGaps += 1;
              bad.push(`${jobId}: retry ${i} after ${gap.toFixed(0)} ms`);
            }
          }
        }
        e.check(
          'each failing job ran failTimes + 1 times',
          wrongCount === 0,
          bad.slice(0, 5).join('; '),
        );
        e.check(
          `retries waited the backoff (${delay} ms)`,
          shortGaps === 0,
          bad.slice(0, 5).join('; '),
        );
      },
    };
  },
);

// ── 8. idle-close race ───────────────────────────────────────────────────────

const idleCloseRace = stockScenario(
  8,
  'idle-close-race',
  'idle timeout 1 s, enqueues landing around closes, safety sweep off',
  () => ({ entities: { idle: { idleTimeoutSeconds: 1 } }, sweep: false }),
  async (env) => {
    const entities = ids('i', env.params.quick ? 40 : 200);
    const cycles = env.params.quick ? 5 : 15;
    env.seedProducts(entities, () => 1000);
    await Promise.all(
      entities.map(async (entity) => {
        await sleep(env.random() * 1000);
        for (let i = 0; i < cycles && !env.expired(); i++) {
          const ms = 5 + Math.floor(env.random() * 15);
          await env.enqueue('idle', entity, { ms });
          // Land the next enqueue around the moment the runner closes: idle timeout after the job.
          await sleep(1000 + ms + (env.random() - 0.5) * 300);
        }
      }),
    );
    return {
      faults: 0,
      after: (e, _m, dump) => {
        const sent = new Map(dump.enqueued.map((x) => [x.job_id, x.sent_at]));
        const first = new Map<string, number>();
        for (const x of dump.executions) if (!first.has(x.job_id)) first.set(x.job_id, x.start);
        const latency = [...first].map(([job, start]) => start - (sent.get(job) ?? start));
        const acquisitions = new Set(dump.executions.map((x) => `${x.entity}#${x.fence}`)).size;
        // Soft: on a loaded machine enqueues land late and fewer closes race with one; that
        // weakens the run but says nothing about the engine.
        e.check(
          'entities were released and claimed again (races exercised)',
          acquisitions >= entities.length * 1.5,
          `${acquisitions} acquisitions over ${entities.length} entities`,
          true,
        );
        const p99 = percentile(latency, 99) ?? 0;
        e.check(
          'start latency p99 < 2 s (no wake-up waited for a timeout)',
          p99 < 2000,
          `p50 ${percentile(latency, 50)} ms, p99 ${p99} ms, max ${percentile(latency, 100)} ms`,
          true,
        );
      },
    };
  },
);

// ── 9. a legitimately long job ───────────────────────────────────────────────

const longJob = stockScenario(
  9,
  'long-job',
  'a job running 10 x heartbeatTTL: never re-run, never overlapped',
  () => ({ entities: { [STOCK]: { idleTimeoutSeconds: 3 }, long: { idleTimeoutSeconds: 3 } } }),
  async (env) => {
    const longMs = 10 * ttlMs(env) + 500;
    const longEntities = ids('l', env.params.quick ? 2 : 4);
    env.seedProducts(longEntities, () => 1000);
    const products = stockProducts(env, 6);
    const longIds: string[] = [];
    await withLoad(env, { entities: products, intervalMs: 300 }, async () => {
      for (const entity of longEntities) {
        longIds.push(`o.${entity}.0`);
        await env.enqueue('long', entity, { ms: longMs });
        await env.enqueue('long', entity, { ms: 20 });
        await env.enqueue('long', entity, { ms: 20 });
      }
      await sleep(longMs + 1000);
    });
    return {
      faults: 0,
      details: { longJobMs: longMs },
      after: (e, _m, dump) => {
        const problems: string[] = [];
        for (const id of longIds) {
          const runs = dump.executions.filter((x) => x.job_id === id);
          if (runs.length !== 1 || runs[0].outcome !== 'committed') {
            problems.push(`${id}: ${runs.map((r) => `${r.pod} ${r.outcome}`).join(', ')}`);
            continue;
          }
          const r = runs[0];
          const during = dump.executions.filter(
            (x) =>
              x.entity === r.entity &&
              x.id !== r.id &&
              x.start < (r.end ?? Infinity) &&
              (x.end ?? Infinity) > r.start,
          );
          if (during.length) problems.push(`${id}: ${during.length} executions during it`);
        }
        e.check(
          'each long job ran once, committed, alone',
          problems.length === 0,
          problems.join('; '),
        );
      },
    };
  },
);

// ── 12. Redis reaches maxmemory mid-run ──────────────────────────────────────

/** Redis's `used_memory`, bytes. */
async function usedMemory(env: ScenarioEnv): Promise<number> {
  const redis = env.client();
  try {
    return Number(/^used_memory:(\d+)/m.exec(await redis.info('memory'))?.[1]);
  } finally {
    redis.disconnect();
  }
}

async function setMaxmemory(env: ScenarioEnv, bytes: number): Promise<void> {
  const redis = env.client();
  try {
    await redis.config('SET', 'maxmemory', String(Math.round(bytes)));
  } finally {
    redis.disconnect();
  }
}

const memoryPressure = stockScenario(
  12,
  'memory-pressure',
  'Redis reaches maxmemory (noeviction) mid-run: enqueues refused, the backlog drains, retention frees room',
  () => ({
    entities: {
      // Completed jobs kept 3 s (count 100): the drained backlog frees memory within the run.
      [STOCK]: {
        idleTimeoutSeconds: 2,
        maxStalledCount: 50,
        removeOnComplete: { age: 3, count: 100 },
      },
    },
    maxmemory: '1gb',
  }),
  async (env) => {
    const products = stockProducts(env, env.params.quick ? 9 : 12);
    const base = await usedMemory(env);
    let faultAt = 0;
    let limit = 0;
    let usedAtFault = 0;
    let refusedBeforeRecovery = false;
    let recoveredAt = 0;
    await withLoad(
      env,
      { entities: products, intervalMs: 150 },
      async () => {
        await sleep(env.params.quick ? 2000 : 5000);
        // A burst lands as the limit drops below what Redis holds: a backlog under a full Redis.
        await Promise.all(products.map(async (p) => env.enqueue(STOCK, p, { ms: 20 })));
        usedAtFault = await usedMemory(env);
        // 16 KB below what Redis holds: less than retention frees once the backlog drains (the
        // finished jobs of the last 3 s, ~60 KB in the quick run), so enqueues can come back.
        // Most of what the run adds is not freed by retention (connections, events streams):
        // with a margin of 64 KB or a fifth of that growth, the quick run never recovered once
        // finished jobs became listpacks (~330 bytes each, was ~1,160).
        limit = usedAtFault - 16 * 1024;
        faultAt = now();
        await setMaxmemory(env, limit);
        await env.oracle.fault('maxmemory', 'redis', env.redis.pid, faultAt, null, `${limit}`);
        // Wait (bounded) for refusals, then for an enqueue accepted after one: recovery.
        refusedBeforeRecovery = await waitUntil(env, () => env.lastRefusedAt > faultAt, 10_000, 20);
        await waitUntil(
          env,
          () => env.lastRefusedAt > faultAt && env.lastAcceptedAt > env.lastRefusedAt,
          45_000,
          50,
        );
        if (env.lastAcceptedAt > env.lastRefusedAt) recoveredAt = env.lastAcceptedAt;
      },
      env.params.quick ? 3000 : 6000,
    );
    const recoveryMs = recoveredAt > 0 ? Math.round(recoveredAt - faultAt) : null;
    const refused = env.refusals['out-of-memory'] ?? 0;
    return {
      faults: 1,
      details: {
        baseUsedMemory: base,
        usedMemoryAtFault: usedAtFault,
        maxmemory: limit,
        refusedEnqueues: { ...env.refusals },
        enqueueRecoveryMs: recoveryMs,
      },
      after: (e) => {
        e.check(
          'enqueues were refused with RedisRefusedError (out-of-memory)',
          refusedBeforeRecovery && refused > 0,
          JSON.stringify(env.refusals),
        );
        e.check(
          'every enqueue error was a typed refusal',
          env.enqueueErrors === refused,
          `${env.enqueueErrors} errors, ${refused} refusals`,
        );
        e.check(
          'enqueues were accepted again by themselves (refused ones retried with their ids)',
          recoveryMs !== null,
          `after ${recoveryMs} ms`,
        );
        e.check(
          'no runner closed on an error',
          e.countInLogs(/engine error \(running /) === 0,
          `${e.countInLogs(/engine error \(running /)} lines`,
        );
      },
    };
  },
);

// ── 15. pods' clocks 30 s apart, kill -9 each in turn ───────────────────────

/** Wall-clock skew of pod slots 0, 1, 2 (and on, in turn): slow, on time, fast. */
const CLOCK_SKEWS_MS = [-30_000, 0, 30_000];

const clockSkew = stockScenario(
  15,
  'clock-skew',
  "pods' wall clocks at -30 s, 0 s, +30 s (libfaketime); kill -9 each in turn mid-job",
  (p) => ({
    entities: { [STOCK]: { idleTimeoutSeconds: 3, maxStalledCount: 50 } },
    clockSkewsMs: Array.from({ length: p.pods }, (_, i) => CLOCK_SKEWS_MS[i % 3]),
  }),
  async (env) => {
    const kills = env.params.quick ? 2 : 6;
    const budget = recoveryBudgetMs(env);
    // The others must take over: a replacement (same clock) comes back only after the budget.
    const restartAfterMs = budget + 2000;
    const products = stockProducts(env, env.params.quick ? 6 : 9);
    // Entities that get a backlog just before each kill and no enqueue after it: only the sweep,
    // which reads the index by Redis's clock, can find those the dead pod held. Six per round,
    // fresh ones in a further round (up to 3 per kill) when the pod to kill holds none of them
    // (they are claimed wherever the spawn lands): the kill must land mid-job on one.
    const roundsPerKill = 3;
    const backlogPool = ids('b', 6 * roundsPerKill * kills);
    env.seedProducts(backlogPool, () => 2000);
    const isBacklog = new Set(backlogPool);
    let nextBacklog = 0;
    // The fast pod first, then the slow one (the quick run stops there), then the one on time:
    // had the fast pod's clock scored the sweep index, its entities would wait ~30 s.
    const order = [2, 0, 1].filter((slot) => slot < env.slots.length);
    const bySkew: Record<string, number> = {};
    let done = 0;
    let midJob = 0;
    await withLoad(env, { entities: products, intervalMs: 250 }, async () => {
      for (let i = 0; i < kills && !env.expired(); i++) {
        const allUp = (): boolean => env.slots.every((slot) => slot.pod?.alive === true);
        if (!(await waitUntil(env, allUp, restartAfterMs + 30_000, 50))) break;
        // New entities go where the fair share has room: right after a restart that is the
        // replacement pod (the others hold the dead pod's entities until rebalancing moves
        // them), which also claims whatever is offered during its warm-up (its first
        // heartbeatTTL and a beat). Past that warm-up the backlog spreads better; the rounds
        // below cover the rest.
        await sleep(ttlMs(env) + 1000 + env.random() * 1000);
        const slot = order[i % order.length];
        const pod = env.slots[slot].pod;
        if (!pod) continue;
        let busy = false;
        for (let round = 0; round < roundsPerKill && !busy && !env.expired(); round++) {
          const backlog = backlogPool.slice(nextBacklog, nextBacklog + 6);
          nextBacklog += 6;
          await Promise.all(
            backlog.map(async (entity) => {
              for (let j = 0; j < 10; j++)
                await env.enqueue(STOCK, entity, { ms: 40 + Math.floor(env.random() * 40) });
            }),
          );
          busy = await waitUntil(
            env,
            () =>
              env.oracle
                .openExecutions(now() - 1500)
                .some((e) => e.pid === pod.pid && isBacklog.has(e.entity)),
            3000,
            25,
          );
        }
        const at = now();
        await pod.kill();
        done += 1;
        if (busy) midJob += 1;
        const skew = `${CLOCK_SKEWS_MS[slot % 3]} ms`;
        bySkew[skew] = (bySkew[skew] ?? 0) + 1;
        await env.oracle.fault('kill', pod.name, pod.pid, at, null, `clock ${skew}`);
        env.restartLater(slot, restartAfterMs);
      }
    });
    return {
      faults: done,
      details: {
        kills: done,
        backlogKills: midJob,
        backlogEntitiesUsed: nextBacklog,
        killsByClockSkew: bySkew,
        podClockSkewsMs: Object.fromEntries(env.clockSkews),
        restartAfterMs,
      },
      after: (e, m, dump) => {
        e.check(`at least ${kills} kills`, done >= kills, `${done}`);
        e.check(
          'most kills landed while the pod ran a backlog entity',
          midJob * 2 >= done,
          `${midJob}/${done}`,
        );
        const targets = order.slice(0, kills).map((slot) => `${CLOCK_SKEWS_MS[slot % 3]} ms`);
        e.check(
          `pods with each clock were killed: ${targets.join(', ')}`,
          targets.every((skew) => (bySkew[skew] ?? 0) > 0),
          JSON.stringify(bySkew),
        );
        recoveryCheck(e, m, false);
        const swept = computeMetrics(
          { ...dump, executions: dump.executions.filter((x) => isBacklog.has(x.entity)) },
          { orderApplies: true },
        );
        e.check(
          `backlog entities (found by the sweep alone) resumed within ${budget} ms`,
          swept.details.recoverySamples > 0 && (swept.recoveryMsP99 ?? Infinity) <= budget,
          `p50 ${swept.recoveryMsP50} ms, p99 ${swept.recoveryMsP99} ms, max ` +
            `${swept.details.recoveryMsMax} ms over ${swept.details.recoverySamples} samples`,
        );
      },
    };
  },
);

export const STOCK_SCENARIOS: Scenario[] = [
  killPod,
  sigstop,
  blockedLoop,
  redisRestart,
  rollingRestart,
  poison,
  retryBackoff,
  idleCloseRace,
  longJob,
  memoryPressure,
  clockSkew,
];
