import type { EventEmitter } from 'node:events';
import type {
  AtomicQueuesEvents,
  EntityReleasedEvent,
  JobCompletedEvent,
  JobFailedEvent,
  JobRetryingEvent,
} from '../events';
import type { MetricsOptions } from '../options/atomic-queues-options';
import { loadPromClient } from './prometheus';
import type {
  PromClient,
  PromCounter,
  PromGauge,
  PromHistogram,
  PrometheusRegistry,
} from './prometheus';

/**
 * The metrics' names: a contract with dashboards and alerts (README "Operations"). Labels: the
 * entity `type` only, never an entity id (a label per entity would make a series per entity).
 */
export const METRIC_NAMES = Object.freeze({
  jobsCompleted: 'atomic_queues_jobs_completed_total',
  jobsFailed: 'atomic_queues_jobs_failed_total',
  jobsRetried: 'atomic_queues_jobs_retried_total',
  jobDuration: 'atomic_queues_job_duration_seconds',
  jobWait: 'atomic_queues_job_wait_seconds',
  entitiesHeld: 'atomic_queues_entities_held',
  leaseLost: 'atomic_queues_lease_lost_total',
  redisReconnects: 'atomic_queues_redis_reconnects_total',
});

/** Seconds; from a no-op handler (~1 ms) to a long job. */
const DURATION_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300,
] as const;
/** Seconds; from a hot entity (~1 ms) to a backlog or a delayed job (an hour). */
const WAIT_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600,
] as const;

/** The entity type of each entity an engine holds now (read at scrape time only). */
export type HeldTypes = () => Iterable<string>;

/** One entity type's series, with their labels made once per type rather than once per job. */
interface TypeSeries {
  completed(): void;
  failed(): void;
  retried(): void;
  leaseLost(): void;
  duration(seconds: number): void;
  wait(seconds: number): void;
}

/**
 * The metrics of one registry. Names are unique in a registry, so every engine reporting to it
 * shares them: counters add up, and the gauge sums what each engine holds.
 */
class RegistryMetrics {
  readonly sources = new Set<HeldTypes>();
  private readonly completed: PromCounter;
  private readonly failed: PromCounter;
  private readonly retried: PromCounter;
  private readonly leaseLost: PromCounter;
  private readonly duration: PromHistogram;
  private readonly wait: PromHistogram;
  readonly reconnects: PromCounter;
  private readonly series = new Map<string, TypeSeries>();

  constructor(prom: PromClient, registry: PrometheusRegistry) {
    const registers = [registry];
    const labelNames = ['type'] as const;
    const counter = (name: string, help: string, labels: readonly string[] = labelNames) =>
      new prom.Counter({ name, help, labelNames: labels, registers });
    const n = METRIC_NAMES;
    this.completed = counter(n.jobsCompleted, 'Jobs completed by this pod.');
    this.failed = counter(n.jobsFailed, 'Jobs failed by this pod after their last attempt.');
    this.retried = counter(n.jobsRetried, 'Failed attempts of jobs that run again.');
    this.leaseLost = counter(n.leaseLost, 'Entity leases this pod lost before it released them.');
    this.reconnects = counter(n.redisReconnects, "Outages of this pod's Redis connections.", []);
    this.duration = new prom.Histogram({
      name: n.jobDuration,
      help: 'Time from the start of a job to its end, retries included (this pod’s clock).',
      labelNames,
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.wait = new prom.Histogram({
      name: n.jobWait,
      help: "Time from a job's enqueue to its start, a delay included (Redis's clock).",
      labelNames,
      buckets: WAIT_BUCKETS,
      registers,
    });
    const sources = this.sources;
    new prom.Gauge({
      name: n.entitiesHeld,
      help: 'Entities whose lease this pod holds.',
      labelNames,
      registers,
      collect(this: PromGauge) {
        const held = new Map<string, number>();
        for (const source of sources)
          for (const type of source()) held.set(type, (held.get(type) ?? 0) + 1);
        this.reset();
        for (const [type, count] of held) this.set({ type }, count);
      },
    });
  }

  of(type: string): TypeSeries {
    let series = this.series.get(type);
    if (!series) {
      const labels = { type };
      // Every counter of the type shows from its first event on, at 0 if need be: a series that
      // is absent until its first increment hides that increment from rate() and increase().
      for (const counter of [this.completed, this.failed, this.retried, this.leaseLost])
        counter.inc(labels, 0);
      series = {
        completed: () => this.completed.inc(labels),
        failed: () => this.failed.inc(labels),
        retried: () => this.retried.inc(labels),
        leaseLost: () => this.leaseLost.inc(labels),
        duration: (seconds) => this.duration.observe(labels, seconds),
        wait: (seconds) => this.wait.observe(labels, seconds),
      };
      this.series.set(type, series);
    }
    return series;
  }
}

const byRegistry = new WeakMap<PrometheusRegistry, RegistryMetrics>();

/** The engine's metrics when the `metrics` option asks for them (prom-client loaded then). */
export function startMetrics(
  options: MetricsOptions | undefined,
  events: EventEmitter<AtomicQueuesEvents>,
  heldTypes: HeldTypes,
): EngineMetrics | undefined {
  if (!options) return undefined;
  const prom = loadPromClient(options);
  return new EngineMetrics(prom, options.registry ?? prom.register, events, heldTypes);
}

/**
 * Keeps the `atomic_queues_*` metrics of one engine in a prom-client registry, from the engine's
 * events: a few counter increments and histogram observations per job, no Redis call, nothing
 * per entity. Built only with the `metrics` option; `close()` stops counting the engine's held
 * entities (its counters keep their totals).
 */
export class EngineMetrics {
  private readonly shared: RegistryMetrics;
  private readonly unsubscribe: () => void;

  constructor(
    prom: PromClient,
    registry: PrometheusRegistry,
    events: EventEmitter<AtomicQueuesEvents>,
    private readonly heldTypes: HeldTypes,
  ) {
    let shared = byRegistry.get(registry);
    if (!shared) {
      shared = new RegistryMetrics(prom, registry);
      byRegistry.set(registry, shared);
    }
    this.shared = shared;
    const finished = (s: TypeSeries, durationMs: number, waitMs: number): void => {
      s.duration(durationMs / 1000);
      if (waitMs >= 0) s.wait(waitMs / 1000); // NaN (unknown) is not ≥ 0
    };
    const completed = (e: JobCompletedEvent): void => {
      const s = shared.of(e.entityType);
      s.completed();
      finished(s, e.durationMs, e.waitMs);
    };
    const failed = (e: JobFailedEvent): void => {
      const s = shared.of(e.entityType);
      s.failed();
      finished(s, e.durationMs, e.waitMs);
    };
    const retrying = (e: JobRetryingEvent): void => shared.of(e.entityType).retried();
    const lost = (e: EntityReleasedEvent): void => shared.of(e.entityType).leaseLost();
    const restored = (): void => shared.reconnects.inc();
    events
      .on('job:completed', completed)
      .on('job:failed', failed)
      .on('job:retrying', retrying)
      .on('lease:lost', lost)
      .on('redis:restored', restored);
    this.unsubscribe = () =>
      events
        .off('job:completed', completed)
        .off('job:failed', failed)
        .off('job:retrying', retrying)
        .off('lease:lost', lost)
        .off('redis:restored', restored);
    shared.sources.add(heldTypes);
  }

  /** Stops listening to the engine and counting what it holds. */
  close(): void {
    this.shared.sources.delete(this.heldTypes);
    this.unsubscribe();
  }
}
