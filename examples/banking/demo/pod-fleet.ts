import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import type { PodReadyMessage } from '../main';

/** Compiled pod entry point (build/examples/banking/main.js), next to this file's folder. */
const POD_MAIN = path.join(__dirname, '..', 'main.js');

export interface PodProcess {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  readonly url: string;
  readonly child: ChildProcess;
  /** Resolves when the process has exited, with its exit code or signal. */
  readonly exited: Promise<number | NodeJS.Signals | null>;
}

/**
 * The pod processes of one demo run. Each is forked from build/examples/banking/main.js, listens
 * on a free loopback port and reports it over IPC. Every process started here is stopped by
 * `stopAll()` (SIGTERM, then SIGKILL by PID), and killed by PID if this process exits first.
 */
export class PodFleet {
  readonly pods: PodProcess[] = [];
  private readonly live = new Set<ChildProcess>();
  private readonly onExit = (): void => {
    for (const child of this.live) if (child.pid !== undefined) safeKill(child.pid, 'SIGKILL');
  };

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly readyTimeoutMs = 30_000,
  ) {
    process.on('exit', this.onExit);
  }

  /** Starts a pod named `name` with extra environment `env`; resolves once it listens. */
  async start(name: string, env: NodeJS.ProcessEnv = {}): Promise<PodProcess> {
    const child = fork(POD_MAIN, [], {
      env: { ...this.env, ...env, BANKING_POD: name },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      execArgv: ['--enable-source-maps'],
    });
    if (child.pid === undefined) throw new Error(`Could not start pod ${name}`);
    this.live.add(child);
    for (const stream of [child.stdout, child.stderr]) {
      if (stream)
        createInterface({ input: stream }).on('line', (line) =>
          process.stderr.write(`[${name}] ${line}\n`),
        );
    }
    const exited = new Promise<number | NodeJS.Signals | null>((resolve) =>
      child.once('exit', (code, signal) => {
        this.live.delete(child);
        resolve(code ?? signal);
      }),
    );
    const ready = await new Promise<PodReadyMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        safeKill(child.pid as number, 'SIGKILL');
        reject(new Error(`Pod ${name} did not listen within ${this.readyTimeoutMs} ms`));
      }, this.readyTimeoutMs);
      child.once('message', (m: PodReadyMessage) => {
        clearTimeout(timer);
        resolve(m);
      });
      void exited.then((how) => {
        clearTimeout(timer);
        reject(new Error(`Pod ${name} exited (${String(how)}) before it was ready`));
      });
    });
    const pod: PodProcess = {
      name,
      pid: child.pid,
      port: ready.port,
      url: `http://127.0.0.1:${ready.port}`,
      child,
      exited,
    };
    this.pods.push(pod);
    return pod;
  }

  /** Graceful stop of one pod: SIGTERM, then SIGKILL by PID after `timeoutMs`. */
  async stop(pod: PodProcess, timeoutMs = 10_000): Promise<void> {
    if (!this.live.has(pod.child)) return;
    safeKill(pod.pid, 'SIGTERM');
    const timer = setTimeout(() => {
      process.stderr.write(`[${pod.name}] did not stop within ${timeoutMs} ms: SIGKILL\n`);
      safeKill(pod.pid, 'SIGKILL');
    }, timeoutMs);
    await pod.exited;
    clearTimeout(timer);
  }

  /** Stops every pod still running, in parallel. */
  async stopAll(timeoutMs = 10_000): Promise<void> {
    await Promise.all(this.pods.map((p) => this.stop(p, timeoutMs)));
    this.onExit(); // a pod that never became ready
    process.off('exit', this.onExit);
  }
}

function safeKill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}
