import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { CPU_PROFILE_ENV } from './cpu-profiler';
import type { ParentMessage, PodMessage, PodProgress } from './pod-protocol';
import { sleep, until } from '../../support/async';
import { epochNow, type Deadline } from './timing';

const READY_TIMEOUT_MS = 20_000;
/** BENCH_TRACE=1: one line a second while pods work (jobs done, entities held per pod). */
const TRACE = process.env.BENCH_TRACE === '1';
const STOP_TIMEOUT_MS = 15_000;

export interface SpawnOptions {
  /** Extra Node flags. */
  execArgv?: string[];
}

export interface PodRunnerOptions {
  /** Profile every pod from `go` to `stop` (see cpu-profiler.ts), into `<pod name>.cpuprofile` here. */
  cpuProfDir?: string;
}

/** One pod process as the parent sees it: its latest counters, its errors, its exit. */
export class PodProcess {
  latest?: PodProgress;
  readonly errors: string[] = [];
  exitCode: number | null | undefined;
  private readonly listeners = new Set<(m: PodMessage) => void>();
  private readonly exitListeners = new Set<() => void>();

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    child.on('message', (m: PodMessage) => {
      if (m.type === 'progress' || m.type === 'done' || m.type === 'report' || m.type === 'stopped')
        this.latest = m.progress;
      if (m.type === 'error') {
        this.errors.push(`${m.context}: ${m.message}`);
        process.stderr.write(`[${name}] error while ${m.context}: ${m.message}\n`);
      }
      for (const l of this.listeners) l(m);
    });
    child.on('exit', (code, signal) => {
      this.exitCode = code ?? (signal ? -1 : null);
      for (const l of this.exitListeners) l();
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get exited(): boolean {
    return this.exitCode !== undefined;
  }

  send(message: ParentMessage): void {
    if (!this.exited && this.child.connected) this.child.send(message);
  }

  /** The next message of `type`; rejects if the pod exits first or `timeoutMs` passes. */
  next<T extends PodMessage['type']>(
    type: T,
    timeoutMs: number,
  ): Promise<Extract<PodMessage, { type: T }>> {
    return new Promise((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        this.listeners.delete(onMessage);
        this.exitListeners.delete(onExit);
      };
      const onMessage = (m: PodMessage): void => {
        if (m.type !== type) return;
        cleanup();
        resolve(m as Extract<PodMessage, { type: T }>);
      };
      const onExit = (): void => {
        cleanup();
        reject(new Error(`Pod ${this.name} exited (code ${this.exitCode}) before sending ${type}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`Pod ${this.name} sent no ${type} within ${timeoutMs} ms`));
      }, timeoutMs);
      if (this.exited) return onExit();
      this.listeners.add(onMessage);
      this.exitListeners.add(onExit);
    });
  }

  /** Fresh counters from the pod. */
  async report(timeoutMs = 5_000): Promise<PodProgress> {
    const reply = this.next('report', timeoutMs);
    this.send({ type: 'report' });
    return (await reply).progress;
  }

  /**
   * The final `details` of the `label` driver pod. It counts its last completion a moment
   * before it sums up its results, so this asks (every 100 ms, for up to 5 s) until `isDone`.
   */
  async finalDetails<D>(label: string, isDone: (details: D) => boolean): Promise<D> {
    let details!: D;
    const done = await until(async () => isDone((details = (await this.report()).details as D)), {
      timeoutMs: 5_000,
      intervalMs: 100,
    });
    if (!done) throw new Error(`The ${label} driver did not finish its report`);
    return details;
  }

  /** Graceful stop; SIGKILL (by PID) if the pod has not exited within `timeoutMs`. */
  async stop(timeoutMs = STOP_TIMEOUT_MS): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => {
      if (this.exited) resolve();
      this.exitListeners.add(resolve);
    });
    this.send({ type: 'stop' });
    const stopped = await Promise.race([gone.then(() => true), sleep(timeoutMs).then(() => false)]);
    if (!stopped) {
      process.stderr.write(`[${this.name}] did not stop within ${timeoutMs} ms: SIGKILL\n`);
      this.kill();
      await gone;
    }
  }

  /** SIGKILL by PID, at once (synchronous: usable from an exit handler). */
  kill(): void {
    if (this.exited || this.child.pid === undefined) return;
    try {
      process.kill(this.child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/**
 * Starts pod programs (compiled JS under build/bench/pods) with `process.execPath` and keeps
 * track of every one, so a run can stop them all, or kill them by PID on error or exit.
 */
export class PodRunner {
  private readonly pods = new Set<PodProcess>();
  private exitHook = false;

  constructor(private readonly opts: PodRunnerOptions = {}) {}

  /** Forks `script` with its config as JSON in argv[2]; resolves when it says `ready`. */
  async spawn(
    name: string,
    script: string,
    config: unknown,
    opts: SpawnOptions = {},
  ): Promise<PodProcess> {
    this.installExitHook();
    const child = fork(script, [JSON.stringify(config)], {
      execPath: process.execPath,
      execArgv: opts.execArgv ?? [],
      env: this.env(name),
      // Pods never write results to stdout: their output goes to the parent's stderr.
      stdio: ['ignore', 2, 2, 'ipc'],
    });
    const pod = new PodProcess(name, child);
    this.pods.add(pod);
    child.once('exit', () => this.pods.delete(pod));
    await pod.next('ready', READY_TIMEOUT_MS);
    return pod;
  }

  private env(name: string): NodeJS.ProcessEnv {
    const dir = this.opts.cpuProfDir;
    if (!dir) return process.env;
    return { ...process.env, [CPU_PROFILE_ENV]: path.resolve(dir, `${name}.cpuprofile`) };
  }

  /** PIDs of the pods still running. */
  pids(): number[] {
    return [...this.pods].map((p) => p.pid);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.pods].map((p) => p.stop()));
  }

  killAll(): void {
    for (const pod of this.pods) pod.kill();
  }

  private installExitHook(): void {
    if (this.exitHook) return;
    this.exitHook = true;
    process.on('exit', () => this.killAll());
  }
}

/** Sum of the pods' latest completion counts. */
export function completedBy(pods: PodProcess[]): number {
  return pods.reduce((sum, p) => sum + (p.latest?.completed ?? 0), 0);
}

export interface RunResult {
  completed: number;
  /** From the earliest `go` to the last completion, ms. */
  elapsedMs: number;
  /** From the earliest `go` to the first completion, ms (start-up and first claim). */
  firstJobMs: number;
  /** Pod CPU (user + system) over the run, summed over pods, ms. */
  podCpuMs: number;
  maxRssMb: number;
  reports: PodProgress[];
}

/**
 * Sends `go` to every pod (with `target` when there is one pod), then waits until the pods have
 * completed `total` jobs between them. Fails when no job completes for `stallMs`, when a pod
 * exits, or when the deadline passes. `onTick` runs between polls (e.g. to sample CLIENT LIST).
 */
export async function runUntilCompleted(
  pods: PodProcess[],
  total: number,
  opts: { stallMs: number; deadline: Deadline; onTick?: () => Promise<void> },
): Promise<RunResult> {
  const single = pods.length === 1;
  const goAt = epochNow();
  for (const pod of pods) pod.send({ type: 'go', target: single ? total : undefined });
  let last = -1;
  let lastChange = Date.now();
  let lastTrace = Date.now();
  for (;;) {
    const done = completedBy(pods);
    if (TRACE && Date.now() - lastTrace >= 1000) {
      lastTrace = Date.now();
      const held = pods.map((p) => p.latest?.activeEntities ?? '-').join('/');
      process.stderr.write(`  trace: ${done}/${total} jobs, entities held ${held}\n`);
    }
    if (done >= total) break;
    const dead = pods.find((p) => p.exited);
    if (dead)
      throw new Error(`Pod ${dead.name} exited (code ${dead.exitCode}) at ${done}/${total} jobs`);
    if (done !== last) {
      last = done;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > opts.stallMs) {
      const errors = pods.flatMap((p) => p.errors).slice(0, 3);
      throw new Error(
        `Stalled: ${done} of ${total} jobs completed, none in the last ${opts.stallMs} ms` +
          (errors.length ? `; pod errors: ${errors.join(' | ')}` : ''),
      );
    }
    opts.deadline.check();
    if (opts.onTick) await opts.onTick();
    await sleep(10);
  }
  const reports = await Promise.all(pods.map((p) => p.report()));
  const startAt = Math.min(...reports.map((r) => r.startAt || goAt));
  const endAt = Math.max(...reports.map((r) => r.lastAt));
  return {
    completed: reports.reduce((s, r) => s + r.completed, 0),
    elapsedMs: endAt - startAt,
    firstJobMs: Math.min(...reports.filter((r) => r.firstAt > 0).map((r) => r.firstAt)) - startAt,
    podCpuMs: reports.reduce((s, r) => s + r.cpuUserMs + r.cpuSystemMs, 0),
    maxRssMb: Math.max(...reports.map((r) => r.maxRssMb)),
    reports,
  };
}
