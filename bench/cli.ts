/**
 * `npm run bench -- <scenario> [--json FILE] [--quick] ...`: runs one benchmark scenario against
 * a redis-server it starts itself, prints a table, and writes one JSON object with the figures,
 * the parameters, the machine and the commit. See bench/README.md.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startLocalRedis, type LocalRedis } from '../scripts/local-redis';
import { parseArgs, USAGE, UsageError, type CliArgs } from './lib/args';
import { summarizeCpuProfiles } from './lib/cpu-profile';
import { gitCommit, machineInfo } from './lib/machine';
import { PodRunner } from './lib/pod-runner';
import { RedisProbe } from './lib/redis-probe';
import { renderTable, writeJson } from './lib/report';
import type { BenchContext, Scenario } from './lib/scenario';
import { Deadline, DeadlineError } from './lib/timing';
import { SCENARIOS } from './scenarios';

const log = (message: string): void => {
  process.stderr.write(`bench: ${message}\n`);
};

async function help(): Promise<void> {
  const lines = [USAGE, '', 'scenarios:'];
  for (const [name, load] of Object.entries(SCENARIOS)) {
    const s = await load();
    lines.push(`  ${name.padEnd(10)} ${s.description}`);
    for (const [opt, text] of Object.entries(s.options ?? {})) lines.push(`      --${opt} ${text}`);
  }
  console.log(lines.join('\n'));
}

function checkOptions(scenario: Scenario, args: CliArgs): void {
  const known = Object.keys(scenario.options ?? {});
  for (const name of args.options.keys()) {
    if (!known.includes(name))
      throw new UsageError(
        `Unknown option --${name} for scenario ${scenario.name}` +
          (known.length ? ` (it takes: ${known.map((k) => `--${k}`).join(', ')})` : ''),
      );
  }
}

/** Everything the run started, stopped in reverse order whatever happens. */
class Resources {
  redis?: LocalRedis;
  probe?: RedisProbe;
  pods?: PodRunner;

  /** Idempotent: stops what is still running (fast: SIGKILL the pods instead of a graceful stop). */
  async release(fast: boolean): Promise<void> {
    const { pods, probe, redis } = this;
    if (pods) {
      if (fast) pods.killAll();
      else await pods.stopAll().catch(() => pods.killAll());
    }
    this.probe = undefined;
    await probe?.close();
    this.redis = undefined;
    await redis?.stop();
  }
}

/**
 * After a failed run, the end of the bench's own redis-server log (a closed connection, a limit
 * hit): its directory goes with `release`.
 */
function showRedisLog(redis: LocalRedis | undefined): void {
  if (!redis) return;
  try {
    const lines = fs.readFileSync(path.join(redis.dir, 'redis.log'), 'utf8').trimEnd().split('\n');
    log(`redis-server log, last lines:\n${lines.slice(-20).join('\n')}`);
  } catch {
    log('redis-server log: none');
  }
}

/** Set on SIGINT/SIGTERM: the run is being torn down, its errors are consequences. */
let interrupted: NodeJS.Signals | undefined;

async function run(args: CliArgs): Promise<number> {
  if (args.help) {
    await help();
    return 0;
  }
  if (!args.scenario) throw new UsageError('Name a scenario: npm run bench -- engine');
  const load = SCENARIOS[args.scenario];
  if (!load)
    throw new UsageError(
      `Unknown scenario \`${args.scenario}\`; known: ${Object.keys(SCENARIOS).join(', ')}`,
    );
  const scenario = await load();
  checkOptions(scenario, args);

  const budget = args.timeoutSeconds ?? scenario.budgetSeconds[args.quick ? 'quick' : 'full'];
  const deadline = new Deadline(budget);
  const res = new Resources();
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupted = signal;
    log(`${signal}: stopping pods (PIDs ${res.pods?.pids().join(', ') || 'none'}) and redis`);
    void res.release(true).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  let timer: NodeJS.Timeout | undefined;
  let failedFast = false;
  try {
    if (args.redisUrl) {
      log(`using --redis-url ${args.redisUrl} (other clients of it skew the figures)`);
    } else {
      res.redis = await startLocalRedis();
      log(`started redis-server pid ${res.redis.pid} on ${res.redis.url}`);
    }
    const redisUrl = args.redisUrl ?? res.redis!.url;
    res.probe = await RedisProbe.connect(redisUrl);
    const redisVersion = await res.probe.version();
    if (args.cpuProfDir) fs.mkdirSync(args.cpuProfDir, { recursive: true });
    res.pods = new PodRunner({ cpuProfDir: args.cpuProfDir });

    const ctx: BenchContext = {
      quick: args.quick,
      redisUrl,
      ownRedis: !args.redisUrl,
      probe: res.probe,
      pods: res.pods,
      deadline,
      options: args.options,
      log,
    };
    const startedAt = Date.now();
    const loadStart = Math.round(os.loadavg()[0] * 100) / 100;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(deadline.error()), deadline.remainingMs());
    });
    log(`scenario ${scenario.name}${args.quick ? ' (quick)' : ''}, budget ${budget} s`);
    const result = await Promise.race([scenario.run(ctx), expired]);
    clearTimeout(timer);

    const { commit, dirty } = gitCommit();
    const output: Record<string, unknown> = {
      scenario: scenario.name,
      date: new Date().toISOString(),
      commit,
      commitDirty: dirty,
      machine: machineInfo(redisVersion),
      // The machine is shared: a high load average means noisy figures.
      loadAvg1mStart: loadStart,
      loadAvg1mEnd: Math.round(os.loadavg()[0] * 100) / 100,
      ...result.fields,
      params: {
        quick: args.quick,
        redis: args.redisUrl ? 'external (--redis-url)' : 'own redis-server',
        budgetSeconds: budget,
        ...result.params,
      },
      durationSec: Math.round((Date.now() - startedAt) / 100) / 10,
    };
    await res.release(false);
    console.log(renderTable(result.table));
    for (const note of result.notes ?? []) console.log(note);
    if (args.cpuProfDir) {
      console.log('\nCPU profiles (each pod, from go to stop):');
      for (const summary of summarizeCpuProfiles(args.cpuProfDir)) console.log(summary);
    }
    if (args.json) {
      writeJson(args.json, output);
      log(`wrote ${path.resolve(args.json)}`);
    } else {
      console.log(JSON.stringify(output, null, 2));
    }
    for (const failure of result.failures ?? []) log(`FAILED: ${failure}`);
    return result.failures?.length ? 1 : 0;
  } catch (err) {
    clearTimeout(timer);
    failedFast = err instanceof DeadlineError;
    showRedisLog(res.redis);
    throw err;
  } finally {
    // A no-op after a successful release; after an error it stops everything the run started.
    await res.release(failedFast);
  }
}

Promise.resolve()
  .then(() => run(parseArgs(process.argv.slice(2))))
  .then((code) => process.exit(code))
  .catch((err: unknown) => {
    if (interrupted) return; // the signal handler exits once everything is stopped
    if (err instanceof UsageError) {
      console.error(`bench: ${err.message}\n\n${USAGE}`);
      process.exit(2);
    }
    // A spent budget is an expected failure: its message says where and what to do.
    const text =
      err instanceof DeadlineError
        ? err.message
        : err instanceof Error
          ? (err.stack ?? err.message)
          : String(err);
    console.error(`bench: FAILED: ${text}`);
    process.exit(1);
  });
