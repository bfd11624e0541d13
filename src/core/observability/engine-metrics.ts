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
import type { PromClient, PromCounter, PromGauge, PrometheusRegistry } from './prometheus';
import { TypeHistogram, type HistogramSeries } from './type-histogram';

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

/** What one entity type counted since the last scrape, and its histogram series. */
class TypeSeries {
  completed = 0;
  failed = 0;
  retried = 0;
  leaseLost = 0;

  constructor(
    readonly labels: { readonly type: string },
    readonly duration: HistogramSeries,
    readonly wait: HistogramSeries,
  ) {}
}
type Pending = 'completed' | 'failed' | 'retried' | 'leaseLost';

/**
 * The metrics of one registry. Names are unique in a registry, so every engine reporting to it
 * shares them: counters add up, and the gauge sums what each engine holds.
 *
 * A job only adds to plain numbers of its type's {@link TypeSeries}; the counters take them at
 * scrape time (prom-client's `collect`), since prom-client's `inc` validates and hashes the labels
 * on every call (see TypeHistogram for the figures).
 */
class RegistryMetrics {
  readonly sources = new Set<HeldTypes>();
  private readonly counters: [PromCounter, Pending][];
  private readonly duration: TypeHistogram;
  private readonly wait: TypeHistogram;
  readonly reconnects: PromCounter;
  private readonly series = new Map<string, TypeSeries>();

  constructor(prom: PromClient, registry: PrometheusRegistry) {
    const registers = [registry];
    const labelNames = ['type'] as const;
    const series = this.series;
    const counter = (name: string, help: string, pending: Pending): [PromCounter, Pending] => [
      new prom.Counter({
        name,
        help,
        labelNames,
        registers,
        collect(this: PromCounter) {
          for (const s of series.values())
            if (s[pending] > 0) {
              this.inc(s.labels, s[pending]);
              s[pending] = 0;
            }
        },
      }),
      pending,
    ];
    const n = METRIC_NAMES;
    this.counters = [
      counter(n.jobsCompleted, 'Jobs completed by this pod.', 'completed'),
      counter(n.jobsFailed, 'Jobs failed by this pod after their last attempt.', 'failed'),
      counter(n.jobsRetried, 'Failed attempts of jobs that run again.', 'retried'),
      counter(n.leaseLost, 'Entity leases this pod lost before it released them.', 'leaseLost'),
    ];
    this.reconnects = new prom.Counter({
      name: n.redisReconnects,
      help: "Outages of this pod's Redis connections.",
      registers,
    });
    this.duration = new TypeHistogram(
      n.jobDuration,
      'Time from the start of a job to its end, retries included (this pod’s clock).',
      DURATION_BUCKETS,
      registry,
    );
    this.wait = new TypeHistogram(
      n.jobWait,
      "Time from a job's enqueue to its start, a delay included (Redis's clock).",
      WAIT_BUCKETS,
      registry,
    );
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
      for (const [counter] of this.counters) counter.inc(labels, 0);
      series = new TypeSeries(labels, this.duration.of(type), this.wait.of(type));
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
      s.duration.observe(durationMs / 1000);
      if (waitMs >= 0) s.wait.observe(waitMs / 1000); // NaN (unknown) is not ≥ 0
    };
    const completed = (e: JobCompletedEvent): void => {
      const s = shared.of(e.entityType);
      s.completed++;
      finished(s, e.durationMs, e.waitMs);
    };
    const failed = (e: JobFailedEvent): void => {
      const s = shared.of(e.entityType);
      s.failed++;
      finished(s, e.durationMs, e.waitMs);
    };
    const retrying = (e: JobRetryingEvent): void => void shared.of(e.entityType).retried++;
    const lost = (e: EntityReleasedEvent): void => void shared.of(e.entityType).leaseLost++;
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
