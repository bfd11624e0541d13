/**
 * Targeted reproductions of engine bugs the scenarios found, run by name only
 * (`npm run chaos -- --scenario repro-stale-fetch`). Each passes once the bug is fixed.
 */
import { ScenarioEnv, PREFIX, type RunParams } from './harness';
import { failedResult, type Scenario, type ScenarioResult } from './scenarios';
import { sleep, until } from '../support/async';
import { now } from './util';

/**
 * A pod paused (SIGSTOP) while it holds an entity idle, with a wake-up for it already delivered
 * to its blocking connection; another pod takes the entity over and is running a long job with
 * one more job waiting. On SIGCONT the paused pod's runner wakes, fetches (`moveToActive`) with
 * its stale token, then finds its lease gone and walks away: the waiting job is left in `active`,
 * and the new holder never runs it.
 */
async function staleFetch(this: Scenario, params: RunParams): Promise<ScenarioResult> {
  const t0 = now();
  let env: ScenarioEnv | undefined;
  try {
    env = await ScenarioEnv.create('repro-stale-fetch', params, {
      entities: { stock: { idleTimeoutSeconds: 30 } },
    });
    const e = env;
    e.seedProducts(['e'], () => 1000);
    const applied = (job: string): boolean =>
      (e.oracle.db
        .prepare<[string], { n: number }>('SELECT count(*) AS n FROM applied WHERE job_id = ?')
        .get(job)?.n ?? 0) > 0;
    const started = (job: string): boolean => e.oracle.executionsOf(job).length > 0;
    const waitFor = async (ok: () => boolean, ms: number, what: string): Promise<void> => {
      if (!(await until(ok, { timeoutMs: ms, intervalMs: 50 })))
        throw new Error(`repro: timed out waiting for ${what}`);
    };
    const a = await e.startPod(0);
    await e.enqueue('stock', 'e', { ms: 10 }); // o.e.0, run by A, which then holds e idle
    await waitFor(() => applied('o.e.0'), 20_000, 'o.e.0 on pod A');
    await sleep(300); // A acknowledges the job and marks e idle
    await e.oracle.fault('stop', a.name, a.pid, await e.freeze(a));
    await e.enqueue('stock', 'e', { ms: 10 }); // o.e.1: e is held idle by A -> wake-up for A
    await e.startPod(1); // B takes e over once A's lease expires, and runs o.e.1
    await waitFor(() => applied('o.e.1'), 30_000, 'o.e.1 on pod B');
    await e.enqueue('stock', 'e', { ms: 4000 }); // o.e.2: B runs it for 4 s
    await waitFor(() => started('o.e.2'), 10_000, 'o.e.2 to start');
    await e.enqueue('stock', 'e', { ms: 10 }); // o.e.3 waits behind it
    await e.oracle.flush();
    a.signal('SIGCONT');
    const settled = await e.settle(4000 + 8000 + 2 * params.heartbeatTTL * 1000);
    const queue = e.engine.queueName('stock', 'e');
    const redis = e.client();
    const [active, wait] = await Promise.all([
      redis.lrange(`${PREFIX}:${queue}:active`, 0, -1),
      redis.lrange(`${PREFIX}:${queue}:wait`, 0, -1),
    ]);
    redis.disconnect();
    e.check(
      'the job waiting behind the new holder runs (not stranded in active by the stale pod)',
      settled,
      `after SIGCONT + ${((4000 + 8000) / 1000).toFixed(0)} s: o.e.3 applied: ${applied('o.e.3')}; ` +
        `active [${active.join(', ')}], wait [${wait.join(', ')}]`,
    );
    const { metrics } = await e.finish();
    const checks = [
      { name: 'lost = 0', ok: metrics.lost === 0, detail: `${metrics.lost}` },
      ...e.checks,
    ];
    return {
      name: this.name,
      number: this.number,
      title: this.title,
      ok: checks.every((c) => c.ok),
      accepted: metrics.accepted,
      executed: metrics.executed,
      lost: metrics.lost,
      overlaps: metrics.overlaps,
      fencedWrites: metrics.fencedWrites,
      duplicateEffects: metrics.duplicateEffects,
      orderInversions: metrics.orderInversions,
      drift: metrics.drift,
      recoveryMsP50: null,
      recoveryMsP99: null,
      faultsInjected: 1,
      durationMs: Math.round(now() - t0),
      checks,
      details: { ...metrics.details, leaseLostEvents: e.countInLogs(/lease lost/) },
    };
  } catch (err) {
    return failedResult(this, err, now() - t0);
  } finally {
    await env?.dispose();
  }
}

export const REPRO_SCENARIOS: Scenario[] = [
  {
    number: 11,
    name: 'repro-stale-fetch',
    title: 'repro: a paused pod fetches a job with a stale lease and strands it in active',
    run(params) {
      return staleFetch.call(this, params);
    },
  },
];
