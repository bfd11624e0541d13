import { CpuProfiler } from './cpu-profiler';
import type { ParentMessage, PodMessage, PodProgress } from './pod-protocol';
import { PROGRESS_INTERVAL_MS } from './pod-protocol';
import { epochNow } from './timing';

/** What a pod program plugs into {@link runPod}. */
export interface PodDriver {
  /** Starts taking jobs (called when `go` arrives; the clock starts just before). */
  start(): Promise<void>;
  /** Stops gracefully. */
  stop(): Promise<void>;
  /** Entities held now, for engine pods. */
  activeEntities?(): number;
  /** Pod-specific results (latencies, ...), sent with `report` and `stopped`. */
  details?(): unknown;
}

/** Counts completions inside a pod; the driver calls `completed()` once per finished job. */
export class CompletionCounter {
  count = 0;
  firstAt = 0;
  lastAt = 0;
  target = Infinity;
  onTarget?: () => void;

  completed(): void {
    this.count += 1;
    this.lastAt = epochNow();
    if (this.count === 1) this.firstAt = this.lastAt;
    if (this.count === this.target) this.onTarget?.();
  }
}

function send(message: PodMessage): void {
  process.send?.(message);
}

/** Errors are sent to the parent (a handful of them in full, the rest only counted). */
export function reportError(counters: { errors: number }, err: unknown, context: string): void {
  counters.errors += 1;
  if (counters.errors <= 5) {
    const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
    send({ type: 'error', message, context });
  }
}

/**
 * The pod side of the protocol in pod-protocol.ts: parses the JSON config in argv[2], builds the
 * driver, says `ready`, then starts on `go`, reports progress, and exits after `stop`. The pod
 * exits on its own when the parent goes away (IPC disconnect), so no pod outlives a run.
 */
export function runPod<C>(
  build: (config: C, counter: CompletionCounter, errors: { errors: number }) => PodDriver,
): void {
  if (!process.send) {
    console.error('This is a bench pod: it is started by the bench CLI, not by hand.');
    process.exit(2);
  }
  process.on('disconnect', () => process.exit(1));
  const config = JSON.parse(process.argv[2] ?? '{}') as C;
  const counter = new CompletionCounter();
  const errors = { errors: 0 };
  const driver = build(config, counter, errors);
  let startAt = 0;
  let cpuAtStart = process.cpuUsage();
  let maxRss = 0;
  let timer: NodeJS.Timeout | undefined;

  let cpu = { user: 0, system: 0 };
  let rss = 0;
  let ticks = 0;
  /**
   * The pod's counters. CPU time and RSS are read only when `full` (done, report, stop) and RSS
   * about once a second otherwise: the periodic progress must cost the pod next to nothing.
   */
  const progress = (full: boolean): PodProgress => {
    ticks += 1;
    if (full) cpu = process.cpuUsage(cpuAtStart);
    if (full || ticks % 20 === 0) {
      rss = process.memoryUsage.rss() / 2 ** 20;
      maxRss = Math.max(maxRss, rss);
    }
    return {
      completed: counter.count,
      startAt,
      firstAt: counter.firstAt,
      lastAt: counter.lastAt,
      cpuUserMs: cpu.user / 1000,
      cpuSystemMs: cpu.system / 1000,
      rssMb: rss,
      maxRssMb: maxRss,
      activeEntities: driver.activeEntities?.(),
      errors: errors.errors,
    };
  };
  counter.onTarget = () => send({ type: 'done', progress: progress(true) });

  const profiler = CpuProfiler.fromEnv();
  const go = (target: number | undefined): void => {
    counter.target = target ?? Infinity;
    cpuAtStart = process.cpuUsage();
    startAt = epochNow();
    timer = setInterval(
      () => send({ type: 'progress', progress: progress(false) }),
      PROGRESS_INTERVAL_MS,
    );
    driver.start().then(
      () => send({ type: 'started' }),
      (err: unknown) => {
        reportError(errors, err, 'starting');
        process.exit(1);
      },
    );
  };
  const stop = async (): Promise<void> => {
    clearInterval(timer);
    try {
      await driver.stop();
    } catch (err) {
      reportError(errors, err, 'stopping');
    }
    try {
      await profiler?.stop();
    } catch (err) {
      reportError(errors, err, 'writing the CPU profile');
    }
    // Exit once the last message is flushed.
    const last: PodMessage = {
      type: 'stopped',
      progress: { ...progress(true), details: driver.details?.() },
    };
    process.send?.(last, undefined, {}, () => process.exit(0));
  };

  process.on('message', (message: ParentMessage) => {
    if (message.type === 'go') {
      // The profiler starts before the clock, so its own start-up is not timed.
      if (!profiler) return go(message.target);
      profiler.start().then(
        () => go(message.target),
        (err: unknown) => {
          reportError(errors, err, 'starting the CPU profiler');
          go(message.target);
        },
      );
    } else if (message.type === 'report') {
      send({ type: 'report', progress: { ...progress(true), details: driver.details?.() } });
    } else if (message.type === 'stop') {
      void stop();
    }
  });
  send({ type: 'ready', pid: process.pid });
}
