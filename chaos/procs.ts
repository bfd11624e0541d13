/**
 * Every process the chaos driver starts goes through here, so that all of them can be stopped by
 * PID on any exit path: normal end, failure, SIGINT/SIGTERM, the global deadline.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { sleep } from '../support/async';
import { errorText } from './util';

const live = new Map<number, ChildProcess>();

function signalPid(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** SIGCONT + SIGKILL to every child still running (synchronous: usable in an exit handler). */
export function killAllChildren(): void {
  for (const [pid] of live) {
    signalPid(pid, 'SIGCONT');
    signalPid(pid, 'SIGKILL');
  }
  live.clear();
}

const tempDirs = new Set<string>();

/** Uncaught exceptions in the driver (recorded, reported by the scenario that was running). */
export const driverIncidents: string[] = [];

export function recordIncident(err: unknown): void {
  driverIncidents.push(err instanceof Error ? (err.stack ?? err.message) : String(err));
}

/** A directory removed on any exit of the driver (the harness removes it earlier when it can). */
export function registerTempDir(dir: string): void {
  tempDirs.add(dir);
}

export function forgetTempDir(dir: string): void {
  tempDirs.delete(dir);
}

process.on('exit', () => {
  killAllChildren();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

export type Exit = { code: number | null; signal: NodeJS.Signals | null };

/** A child process started with an IPC channel, its output appended to a log file. */
export class ChildHandle {
  readonly pid: number;
  readonly exited: Promise<Exit>;
  exit?: Exit;
  /** Set by `kill()`: an injected SIGKILL. */
  killed = false;
  /** Set by `stop()` while it was running: a graceful stop. */
  stopped = false;
  private readonly messages: ((m: unknown) => void)[] = [];

  constructor(
    readonly name: string,
    script: string,
    args: string[],
    readonly logFile: string,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    const fd = openSync(logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, ['--enable-source-maps', script, ...args], {
        stdio: ['ignore', fd, fd, 'ipc'],
        env,
      });
    } finally {
      closeSync(fd);
    }
    if (child.pid === undefined) throw new Error(`${name}: could not start ${script}`);
    this.pid = child.pid;
    live.set(this.pid, child);
    child.on('error', () => undefined);
    child.on('message', (m: unknown) => this.messages.forEach((f) => f(m)));
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        live.delete(this.pid);
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  onMessage(f: (m: unknown) => void): void {
    this.messages.push(f);
  }

  /** Resolves with the first message `accept` takes; rejects on exit or timeout. */
  waitFor<T>(accept: (m: unknown) => T | undefined, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      let done = false;
      const timer = setTimeout(() => {
        done = true;
        reject(new Error(`${this.name} sent no expected message within ${timeoutMs} ms`));
      }, timeoutMs);
      this.onMessage((m) => {
        const v = accept(m);
        if (done || v === undefined) return;
        done = true;
        clearTimeout(timer);
        resolve(v);
      });
      void this.exited.then((e) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        reject(
          new Error(
            `${this.name} exited (code ${e.code}, signal ${e.signal}) before it was ready:\n${this.logTail()}`,
          ),
        );
      });
    });
  }

  signal(sig: NodeJS.Signals): void {
    if (this.alive) signalPid(this.pid, sig);
  }

  /** True when the driver ended it (stop or injected kill). */
  get expectedExit(): boolean {
    return this.killed || this.stopped;
  }

  async kill(): Promise<void> {
    if (this.alive) this.killed = true;
    this.signal('SIGCONT');
    this.signal('SIGKILL');
    await Promise.race([this.exited, sleep(10_000)]);
  }

  /** Graceful stop: SIGCONT, SIGTERM, then SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 30_000): Promise<Exit | undefined> {
    if (!this.alive) return this.exit;
    this.stopped = true;
    this.signal('SIGCONT');
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), timeoutMs);
    const exit = await Promise.race([this.exited, sleep(timeoutMs + 10_000).then(() => undefined)]);
    clearTimeout(timer);
    return exit;
  }

  logTail(chars = 3000): string {
    try {
      return readFileSync(this.logFile, 'utf8').slice(-chars);
    } catch (err) {
      return `(no log: ${errorText(err)})`;
    }
  }
}
