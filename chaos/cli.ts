/**
 * `npm run chaos -- [--scenario NAME]... [--quick] [--json FILE] [--seed N] [--heartbeat-ttl S]
 * [--pods N] [--deadline-min M] [--keep] [--list]`
 *
 * Runs the fault scenarios one after the other, each with its own redis-server, pod processes and
 * SQLite oracle; prints a table; writes `{ scenarios, commit, machine, params }` to FILE; exits
 * non-zero when a requirement fails. The whole run is bounded by a global deadline; every process
 * it started is stopped by PID on every exit path (end, failure, SIGINT, SIGTERM, deadline).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunParams } from './harness';
import { killAllChildren, recordIncident } from './procs';
import { failedResult, type Scenario, type ScenarioResult } from './scenarios';
import { EXTRA, SCENARIOS } from './suite';

const ROOT = path.resolve(__dirname, '..', '..');

interface Args {
  scenarios: string[];
  quick: boolean;
  json?: string;
  seed: number;
  heartbeatTTL?: number;
  pods: number;
  deadlineMin?: number;
  keep: boolean;
  list: boolean;
}

const USAGE = `usage: npm run chaos -- [--scenario NAME|NUMBER]... [--quick] [--json FILE]
         [--seed N] [--heartbeat-ttl SECONDS] [--pods N] [--deadline-min MINUTES] [--keep] [--list]`;

function parseArgs(argv: string[]): Args {
  const args: Args = {
    scenarios: [],
    quick: false,
    seed: Math.floor(Math.random() * 2 ** 31) + 1,
    pods: 3,
    keep: false,
    list: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${USAGE}`);
      return v;
    };
    const number = (min: number): number => {
      const v = Number(value());
      if (!Number.isFinite(v) || v < min) throw new Error(`${a}: expected a number ≥ ${min}`);
      return v;
    };
    if (a === '--scenario') args.scenarios.push(...value().split(','));
    else if (a === '--quick') args.quick = true;
    else if (a === '--json') args.json = value();
    else if (a === '--seed') args.seed = Math.floor(number(1));
    else if (a === '--heartbeat-ttl') args.heartbeatTTL = number(0.3);
    else if (a === '--pods') args.pods = Math.floor(number(2));
    else if (a === '--deadline-min') args.deadlineMin = number(1);
    else if (a === '--keep') args.keep = true;
    else if (a === '--list') args.list = true;
    else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  return args;
}

function select(names: string[]): Scenario[] {
  if (names.length === 0) return SCENARIOS;
  return names.map((n) => {
    const all = [...SCENARIOS, ...EXTRA];
    const s = all.find((x) => x.name === n || String(x.number) === n);
    if (!s) throw new Error(`unknown scenario ${n}; known: ${all.map((x) => x.name).join(', ')}`);
    return s;
  });
}

function commit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim();
    return dirty ? `${sha}-dirty` : sha;
  } catch {
    return 'unknown';
  }
}

function machine(): Record<string, unknown> {
  let redis = 'unknown';
  try {
    redis = execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    // reported as unknown
  }
  return {
    hostname: os.hostname(),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    redis,
    loadAverageAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

function cell(v: number | null | undefined): string {
  return v === null || v === undefined ? '-' : String(v);
}

function table(results: ScenarioResult[]): string {
  const head = [
    '#',
    'scenario',
    'accepted',
    'executed',
    'lost',
    'overlaps',
    'fenced',
    'dupes',
    'inversions',
    'drift',
    'rec p50',
    'rec p99',
    'faults',
    's',
    'result',
  ];
  const rows = results.map((r) => [
    String(r.number),
    r.name,
    cell(r.accepted),
    cell(r.executed),
    cell(r.lost),
    cell(r.overlaps),
    cell(r.fencedWrites),
    cell(r.duplicateEffects),
    cell(r.orderInversions),
    cell(r.drift),
    cell(r.recoveryMsP50),
    cell(r.recoveryMsP99),
    cell(r.faultsInjected),
    (r.durationMs / 1000).toFixed(0),
    r.ok ? 'PASS' : 'FAIL',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]): string =>
    r.map((c, i) => c.padStart(i === 1 ? 0 : widths[i]).padEnd(widths[i])).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (args.list) {
    for (const s of [...SCENARIOS, ...EXTRA])
      console.log(`${String(s.number).padStart(2)}  ${s.name.padEnd(16)} ${s.title}`);
    return 0;
  }
  const scenarios = select(args.scenarios);
  const started = Date.now();
  const host = machine();
  // About 25 s per quick scenario and 80 s per full one on two idle cores; twice that for a
  // loaded machine.
  const deadlineMin =
    args.deadlineMin ??
    Math.max(args.quick ? 6 : 20, (scenarios.length * (args.quick ? 45 : 160)) / 60);
  const params: RunParams = {
    quick: args.quick,
    heartbeatTTL: args.heartbeatTTL ?? (args.quick ? 1 : 2),
    cronInterval: 250,
    pods: args.pods,
    seed: args.seed,
    keep: args.keep,
    deadline: started + deadlineMin * 60_000,
  };
  // Past the deadline plus a grace period, stop everything whatever is going on.
  const watchdog = setTimeout(
    () => {
      console.error(
        `chaos: global deadline (${deadlineMin} min) passed by 60 s: killing everything`,
      );
      killAllChildren();
      process.exit(2);
    },
    params.deadline - Date.now() + 60_000,
  );
  watchdog.unref();

  console.log(
    `chaos: ${scenarios.length} scenario(s), ${args.quick ? 'quick' : 'full'}, seed ${params.seed}, ` +
      `heartbeatTTL ${params.heartbeatTTL} s, ${params.pods} pods, deadline ${deadlineMin} min`,
  );
  const results: ScenarioResult[] = [];
  for (const s of scenarios) {
    if (Date.now() >= params.deadline) {
      results.push(failedResult(s, new Error('not run: global deadline passed'), 0));
      continue;
    }
    process.stdout.write(`chaos: ${s.number} ${s.name} ... `);
    const r = await s.run(params);
    results.push(r);
    console.log(`${r.ok ? 'PASS' : 'FAIL'} (${(r.durationMs / 1000).toFixed(1)} s)`);
    for (const c of r.checks.filter((x) => !x.ok))
      console.log(
        `    ${c.soft ? 'warn' : 'FAIL'}: ${c.name}${c.detail ? `: ${c.detail.slice(0, 800)}` : ''}`,
      );
    const examples = (r.details.examples as string[] | undefined) ?? [];
    for (const e of examples.slice(0, 6)) console.log(`    ${e}`);
  }
  console.log('');
  console.log(table(results));
  const ok = results.every((r) => r.ok);
  const report = {
    scenarios: results,
    commit: commit(),
    machine: { ...host, loadAverageAtEnd: os.loadavg().map((l) => Math.round(l * 100) / 100) },
    params: {
      quick: params.quick,
      seed: params.seed,
      heartbeatTTL: params.heartbeatTTL,
      cronInterval: params.cronInterval,
      pods: params.pods,
      deadlineMin,
      redis: 'own redis-server per scenario, appendonly yes, appendfsync always',
      oracle: 'SQLite (WAL) outside Redis; fenced stock store + execution ledger',
      durationMs: Date.now() - started,
      ok,
    },
  };
  if (args.json) {
    mkdirSync(path.dirname(path.resolve(args.json)), { recursive: true });
    writeFileSync(args.json, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`\nchaos: wrote ${args.json}`);
  }
  console.log(
    `chaos: ${ok ? 'all requirements hold' : 'REQUIREMENTS FAILED'} (${((Date.now() - started) / 1000).toFixed(0)} s)`,
  );
  return ok ? 0 : 1;
}

// An exception escaping an event handler in the driver must not end the run without cleanup:
// it is recorded and fails the scenario that was running.
process.on('uncaughtException', (err) => {
  console.error(`chaos: uncaught exception in the driver: ${err.stack ?? err.message}`);
  recordIncident(err);
});

let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (interrupted) return;
    interrupted = true;
    console.error(`\nchaos: ${sig}: stopping every process started`);
    killAllChildren();
    process.exit(130);
  });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`chaos: ${err instanceof Error ? err.message : String(err)}`);
    killAllChildren();
    process.exit(2);
  },
);
