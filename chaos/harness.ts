/**
 * One scenario's world: a temporary directory, its own redis-server (AOF on) or, with
 * `--cluster`, its own Redis Cluster (3 masters + 3 replicas, AOF on), the oracle, a fleet
 * of pod processes (restarted when asked or when they die, like a supervisor would), and a
 * producer engine (processing: false) in the driver that enqueues orders and records every
 * acknowledged one in the oracle. `finish()` stops everything it started, by PID, and computes
 * the metrics; `dispose()` removes every file, on success and failure alike.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Cluster, Redis } from 'ioredis';
import {
  AtomicEngine,
  AtomicQueuesError,
  RedisRefusedError,
  ReplicationTimeoutError,
  type DurabilityOptions,
} from '../src';
import {
  startLocalRedis,
  startLocalRedisCluster,
  type LocalRedis,
  type LocalRedisCluster,
} from '../scripts/local-redis';
import { computeMetrics, type Metrics } from './checks';
import { DriverOracle, type OracleDump } from './oracle';
import { ChildHandle, driverIncidents, forgetTempDir, registerTempDir } from './procs';
import type { ChaosPodConfig, OrderJob, PodMessage } from './protocol';
import { sleep, until } from '../support/async';
import { skewedClockEnv } from '../support/faketime';
import { seededRandom } from '../support/random';
import { errorText, now } from './util';

export interface RunParams {
  quick: boolean;
  heartbeatTTL: number;
  cronInterval: number;
  pods: number;
  seed: number;
  keep: boolean;
  /** Absolute time (ms) by which the whole run must be over. */
  deadline: number;
  /** Each scenario on its own Redis Cluster (3 masters, 1 replica each) instead of one server. */
  cluster?: boolean;
}

/** A scenario's Redis: one server, or a Cluster (`RunParams.cluster`). */
export type ScenarioRedis =
  | { readonly kind: 'single'; readonly server: LocalRedis }
  | { readonly kind: 'cluster'; readonly cluster: LocalRedisCluster };

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  /** Soft checks are reported, never fail the run (timing under load). */
  soft?: boolean;
}

export type EntityOptions = ChaosPodConfig['entities'];

export interface EnvOptions {
  entities: EntityOptions;
  appendfsync?: 'always' | 'everysec' | 'no';
  sweep?: boolean;
  fenced?: boolean;
  /** Restart a pod that exits by itself (poison jobs) after this delay; off when undefined. */
  autoRestartMs?: number;
  pods?: number;
  /** Redis's memory limit (`noeviction`); scenarios lower it with CONFIG SET. */
  maxmemory?: string;
  /**
   * Wall-clock skew of each slot's pods, ms (+ runs fast), restarts included: libfaketime
   * (support/faketime.ts). Slots past the list run on the true clock.
   */
  clockSkewsMs?: readonly number[];
  /** The driver's enqueues wait for replicas (Cluster runs). */
  durability?: DurabilityOptions;
}

export interface LoadOptions {
  type: string;
  entities: readonly string[];
  /** Mean time between two enqueues of one entity. */
  intervalMs: number;
  /** Handler time range. */
  msRange?: [number, number];
  stop: () => boolean;
}

const POD_SCRIPT = path.join(__dirname, 'pod.js');
export const PREFIX = 'chaos';
/** How far a pod's measured clock may be from its configured skew (one round trip, loaded). */
const SKEW_TOLERANCE_MS = 250;

interface Slot {
  index: number;
  generation: number;
  pod?: ChildHandle;
  podId?: string;
  restarting?: Promise<ChildHandle>;
}

/**
 * SIGSTOPs `pod` outside the oracle's write lock and returns the time of the stop. A pod stopped
 * inside one of its (sub-millisecond) oracle transactions would hold the lock, and with it every
 * other process's writes, the driver's included, until it is resumed: the oracle stands outside
 * the system under test, so such a stop is resumed at once and tried again a moment later.
 */
export async function freezeOutsideOracle(
  oracle: DriverOracle,
  pod: ChildHandle,
  random: () => number = Math.random,
  attempts = 50,
): Promise<number> {
  for (let i = 1; ; i++) {
    const at = now();
    pod.signal('SIGSTOP');
    if (await oracle.canWrite(250)) return at;
    pod.signal('SIGCONT');
    if (i >= attempts) throw new Error(`${pod.name} held the oracle's write lock ${i} times`);
    await sleep(10 + random() * 40);
  }
}

export class ScenarioEnv {
  readonly random: () => number;
  readonly checks: Check[] = [];
  readonly slots: Slot[] = [];
  readonly allPods: ChildHandle[] = [];
  /** Each pod's clock as it measured it against Redis's at start, ms off (+ fast). */
  readonly clockSkews = new Map<string, number>();
  enqueueErrors = 0;
  /** Enqueues stored but not confirmed by enough replicas (ReplicationTimeoutError). */
  notReplicated = 0;
  /** Enqueue errors by the error's code (the library's) or name. */
  readonly enqueueErrorKinds: Record<string, number> = {};
  /** Enqueues Redis refused (RedisRefusedError), by reason. */
  readonly refusals: Record<string, number> = {};
  /** When an enqueue was last refused / last accepted (driver clock, ms). */
  lastRefusedAt = 0;
  lastAcceptedAt = 0;
  private readonly seqs = new Map<string, number>();
  /** Set while enqueues are held back (holdEnqueues); resolves when they may go. */
  private held?: Promise<void>;
  /** Enqueues sent and not answered yet. */
  private sending = 0;
  private tearingDown = false;
  private producer?: AtomicEngine;
  /** The producer's Cluster client (the engine does not close a client it is given). */
  private producerCluster?: Cluster;
  private readonly started = now();
  private readonly incidentsBefore = driverIncidents.length;

  private constructor(
    readonly name: string,
    readonly params: RunParams,
    readonly options: EnvOptions,
    readonly dir: string,
    readonly target: ScenarioRedis,
    readonly oracle: DriverOracle,
  ) {
    this.random = seededRandom(params.seed ^ hash(name));
  }

  static async create(name: string, params: RunParams, options: EnvOptions): Promise<ScenarioEnv> {
    const dir = mkdtempSync(path.join(tmpdir(), `aq-chaos-${name}-`));
    if (!params.keep) registerTempDir(dir);
    let target: ScenarioRedis | undefined;
    try {
      const appendfsync = options.appendfsync ?? 'always';
      target = params.cluster
        ? {
            kind: 'cluster',
            cluster: await startLocalRedisCluster({
              masters: 3,
              replicasPerMaster: 1,
              appendonly: true,
              appendfsync,
            }),
          }
        : {
            kind: 'single',
            server: await startLocalRedis({
              appendonly: true,
              appendfsync,
              maxmemory: options.maxmemory,
              dir: path.join(dir, 'redis'),
            }),
          };
      const oracle = new DriverOracle(path.join(dir, 'oracle.db'));
      const env = new ScenarioEnv(name, params, options, dir, target, oracle);
      if (target.kind === 'cluster')
        env.producerCluster = new Cluster([...target.cluster.nodes], {
          redisOptions: { maxRetriesPerRequest: null },
        });
      const producer = new AtomicEngine({
        redis: env.producerCluster ?? env.redisUrl,
        keyPrefix: PREFIX,
        podId: 'driver',
        processing: false,
        enqueueTimeoutMs: 4000,
        durability: options.durability,
        workerDefaults: { heartbeatTTL: params.heartbeatTTL },
        entities: options.entities,
        // The driver measures; its lines would break into the progress table on stdout.
        logger: false,
      });
      producer.on('error', () => undefined);
      await producer.start();
      // Driver-side workaround for an engine bug (see the chaos report): AtomicEngine leaves the
      // 'error' event of its BullMQ backend without a listener, so a Redis connection reset
      // throws out of ioredis's socket handler and kills the process. The driver must survive to
      // keep measuring; the pods, the system under test, run the engine as it is.
      (producer as unknown as { root?: NodeJS.EventEmitter }).root?.on('error', () => undefined);
      env.producer = producer;
      return env;
    } catch (err) {
      await stopRedis(target);
      if (!params.keep) rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** The single redis-server (scenarios that restart, wipe or limit it run on one only). */
  get redis(): LocalRedis {
    if (this.target.kind !== 'single') throw new Error(`${this.name} needs a single redis-server`);
    return this.target.server;
  }

  /** The Cluster of a `--cluster` run. */
  get cluster(): LocalRedisCluster {
    if (this.target.kind !== 'cluster') throw new Error(`${this.name} needs --cluster`);
    return this.target.cluster;
  }

  /** A URL of the single server, or of the Cluster's first node. */
  get redisUrl(): string {
    return this.target.kind === 'single'
      ? this.target.server.url
      : `redis://127.0.0.1:${this.target.cluster.nodes[0].port}`;
  }

  get engine(): AtomicEngine {
    if (!this.producer) throw new Error('no producer');
    return this.producer;
  }

  /** Milliseconds left before the global deadline. */
  remaining(): number {
    return this.params.deadline - Date.now();
  }

  expired(): boolean {
    return this.remaining() <= 0;
  }

  check(name: string, ok: boolean, detail = '', soft = false): void {
    this.checks.push({ name, ok, detail, soft: soft || undefined });
  }

  // ── pods ──────────────────────────────────────────────────────────────────

  podConfig(podId: string): ChaosPodConfig {
    return {
      podId,
      redisUrl: this.redisUrl,
      clusterNodes: this.target.kind === 'cluster' ? [...this.target.cluster.nodes] : undefined,
      prefix: PREFIX,
      db: this.oracle.file,
      heartbeatTTL: this.params.heartbeatTTL,
      cronInterval: this.params.cronInterval,
      sweep: this.options.sweep ?? true,
      enqueueTimeoutMs: 4000,
      entities: this.options.entities,
      fenced: this.options.fenced ?? true,
      maxLifetimeMs: Math.max(60_000, this.remaining() + 60_000),
    };
  }

  /** Starts (or restarts) the pod of a slot and waits until it is ready. */
  async startPod(index: number): Promise<ChildHandle> {
    let slot = this.slots[index];
    if (!slot) {
      slot = { index, generation: 0 };
      this.slots[index] = slot;
    }
    slot.generation += 1;
    const podId = `p${index}_g${slot.generation}`;
    const skews = this.options.clockSkewsMs;
    const skew = skews?.[index] ?? 0;
    const pod = new ChildHandle(
      podId,
      POD_SCRIPT,
      [JSON.stringify(this.podConfig(podId))],
      path.join(this.dir, `${podId}.log`),
      { ...process.env, ...skewedClockEnv(skew) },
    );
    slot.pod = pod;
    slot.podId = podId;
    this.allPods.push(pod);
    void pod.exited.then(() => this.onExit(slot, pod));
    const measured = await pod.waitFor(
      (m) => ((m as PodMessage).type === 'ready' ? (m as PodMessage).clockSkewMs : undefined),
      Math.max(5_000, Math.min(90_000, this.remaining())),
    );
    this.clockSkews.set(podId, measured);
    if (skews && Math.abs(measured - skew) > SKEW_TOLERANCE_MS)
      this.check(
        `${podId}'s clock runs ${skew} ms off, as configured`,
        false,
        `measured ${measured} ms against Redis's TIME (is libfaketime preloaded?)`,
      );
    return pod;
  }

  async startPods(n = this.options.pods ?? this.params.pods): Promise<void> {
    await Promise.all(Array.from({ length: n }, (_, i) => this.startPod(i)));
  }

  /** Restarts a slot in the background (at most one restart at a time per slot). */
  restartLater(index: number, delayMs: number): void {
    const slot = this.slots[index];
    if (!slot || slot.restarting || this.tearingDown) return;
    slot.restarting = sleep(delayMs)
      .then(() => {
        if (this.tearingDown || this.expired()) throw new Error('not restarting: run is ending');
        return this.startPod(index);
      })
      .finally(() => (slot.restarting = undefined));
    slot.restarting.catch(() => undefined);
  }

  private onExit(slot: Slot, pod: ChildHandle): void {
    if (pod.expectedExit || this.tearingDown) return;
    if (this.options.autoRestartMs !== undefined && slot.pod === pod)
      this.restartLater(slot.index, this.options.autoRestartMs);
  }

  /** Pods running and not being stopped. */
  alivePods(): ChildHandle[] {
    return this.slots.map((s) => s.pod).filter((p): p is ChildHandle => !!p && p.alive);
  }

  slotOf(pod: ChildHandle): number {
    return this.slots.findIndex((s) => s.pod === pod);
  }

  /**
   * A pod that is running a job right now (an execution started in the last `withinMs` and not
   * ended, per the oracle); a random live pod when none is.
   */
  pickBusyPod(withinMs = 1500): { pod: ChildHandle; midJob: boolean } | undefined {
    const alive = this.alivePods();
    if (alive.length === 0) return undefined;
    const open = this.oracle.openExecutions(now() - withinMs);
    const busy = alive.filter((p) => open.some((e) => e.pid === p.pid));
    const pool = busy.length > 0 ? busy : alive;
    return { pod: pool[Math.floor(this.random() * pool.length)], midJob: busy.length > 0 };
  }

  /** Waits until some pod is mid-job (bounded), then picks it. */
  async waitForBusyPod(timeoutMs = 3000): Promise<{ pod: ChildHandle; midJob: boolean }> {
    let pick: { pod: ChildHandle; midJob: boolean } | undefined;
    await until(() => (pick = this.pickBusyPod())?.midJob === true, { timeoutMs, intervalMs: 25 });
    if (!pick) throw new Error('no live pod to inject a fault into');
    return pick;
  }

  /** SIGSTOPs `pod` outside the oracle's write lock (`freezeOutsideOracle`); the time of the stop. */
  freeze(pod: ChildHandle): Promise<number> {
    return freezeOutsideOracle(this.oracle, pod, this.random);
  }

  // ── workload ──────────────────────────────────────────────────────────────

  /** The seq the next enqueue of `entity` will get. */
  peekSeq(entity: string): number {
    return this.seqs.get(entity) ?? 0;
  }

  nextSeq(entity: string): number {
    const seq = this.seqs.get(entity) ?? 0;
    this.seqs.set(entity, seq + 1);
    return seq;
  }

  /**
   * Holds new enqueues back and waits until none is in flight (bounded by the enqueue timeout),
   * so that a fault splits the accepted jobs cleanly into those acknowledged before it and
   * after. Returns the function that lets them go.
   */
  async holdEnqueues(): Promise<() => void> {
    let release = (): void => undefined;
    this.held = new Promise<void>((resolve) => (release = resolve));
    await until(() => this.sending === 0, { timeoutMs: 10_000, intervalMs: 5 });
    if (this.sending > 0) throw new Error(`${this.sending} enqueues still in flight`);
    return () => {
      this.held = undefined;
      release();
    };
  }

  /**
   * Enqueues one order; records it in the oracle once Redis acknowledged it. A refused enqueue
   * gives its seq back: the entity's next enqueue retries the same job id.
   */
  async enqueue(
    type: string,
    entity: string,
    extra: Partial<OrderJob> = {},
    expect: 'commit' | 'fail' = 'commit',
  ): Promise<boolean> {
    while (this.held) await this.held;
    const seq = this.nextSeq(entity);
    const b = `o.${entity}.${seq}`;
    const job: OrderJob = {
      b,
      e: entity,
      seq,
      qty: 1 + Math.floor(this.random() * 3),
      ms: 30 + Math.floor(this.random() * 70),
      ...extra,
    };
    const sentAt = now();
    this.sending += 1;
    try {
      await this.engine.enqueue(type, entity, 'order', job, { jobId: b });
    } catch (err) {
      this.enqueueErrors += 1;
      const kind = err instanceof AtomicQueuesError ? err.code : errorName(err);
      this.enqueueErrorKinds[kind] = (this.enqueueErrorKinds[kind] ?? 0) + 1;
      if (err instanceof RedisRefusedError) {
        this.refusals[err.reason] = (this.refusals[err.reason] ?? 0) + 1;
        this.lastRefusedAt = now();
      }
      if (err instanceof ReplicationTimeoutError) this.notReplicated += 1;
      // Not acknowledged: the entity's next enqueue retries the same job id (stored or not).
      if (
        (err instanceof RedisRefusedError || err instanceof ReplicationTimeoutError) &&
        this.seqs.get(entity) === seq + 1
      )
        this.seqs.set(entity, seq);
      return false;
    } finally {
      this.sending -= 1;
    }
    this.lastAcceptedAt = now();
    this.oracle.accepted({
      job_id: b,
      business_id: b,
      type,
      entity,
      seq,
      qty: job.qty,
      expect,
      sent_at: sentAt,
      acked_at: now(),
    });
    return true;
  }

  /** Enqueues orders on each entity (one chain per entity, in order) until `stop()`. */
  async load(o: LoadOptions): Promise<void> {
    const [lo, hi] = o.msRange ?? [30, 100];
    await Promise.all(
      o.entities.map(async (entity) => {
        await sleep(this.random() * o.intervalMs);
        while (!o.stop() && !this.expired()) {
          const ok = await this.enqueue(o.type, entity, {
            ms: lo + Math.floor(this.random() * (hi - lo)),
          });
          await sleep(ok ? o.intervalMs * (0.5 + this.random()) : 200);
        }
      }),
    );
  }

  seedProducts(ids: readonly string[], stock: () => number): void {
    this.oracle.seedProducts(ids.map((id) => ({ id, stock: stock() })));
  }

  /**
   * Waits until every accepted job that must commit has; gives up after `timeoutMs`, or earlier
   * when nothing at all was applied for `stallMs` (far past the takeover bound, heartbeatTTL +
   * cronInterval). True when all did.
   */
  async settle(timeoutMs: number, stallMs = this.params.quick ? 15_000 : 30_000): Promise<boolean> {
    await this.oracle.flush();
    const until = Date.now() + Math.min(timeoutMs, Math.max(0, this.remaining()));
    let applied = this.oracle.appliedCount();
    let progressAt = Date.now();
    for (;;) {
      if (this.oracle.unappliedCount() === 0) return true;
      const n = this.oracle.appliedCount();
      if (n !== applied) {
        applied = n;
        progressAt = Date.now();
      }
      if (Date.now() > until || Date.now() - progressAt > stallMs) return false;
      await sleep(200);
    }
  }

  /** A Redis client for checks (the caller quits it). */
  client(): Redis {
    return new Redis(this.redis.url, { maxRetriesPerRequest: 3, lazyConnect: false });
  }

  // ── end ───────────────────────────────────────────────────────────────────

  /**
   * Stops the producer and every pod (gracefully, SIGKILL after a timeout), reads the oracle,
   * scans Redis for keys outside the prefix, stops Redis.
   */
  async finish(orderApplies = true): Promise<{ metrics: Metrics; dump: OracleDump }> {
    await this.oracle.flush();
    this.tearingDown = true;
    await Promise.allSettled(this.slots.map((s) => s.restarting ?? Promise.resolve()));
    await withTimeout(this.engine.stop(), 15_000).catch(() => undefined);
    const exits = await Promise.all(this.allPods.map((p) => p.stop(20_000)));
    const dump = this.oracle.dump();
    const metrics = computeMetrics(dump, { orderApplies });

    const exitFaults = new Set(dump.faults.filter((f) => f.kind === 'exit').map((f) => f.pid));
    // A pod that exited on its own (not killed, not stopped, not a poison job's exit) crashed; a
    // graceful stop must end with code 0.
    const crashed = this.allPods.filter((p) => !p.expectedExit && !exitFaults.has(p.pid));
    const badStops = this.allPods.filter(
      (p, i) => p.stopped && !p.killed && (exits[i]?.code !== 0 || exits[i]?.signal !== null),
    );
    this.check(
      'no pod crashed; graceful stops exit 0',
      crashed.length === 0 && badStops.length === 0,
      [...crashed, ...badStops]
        .map((p) => `${p.name} exit ${JSON.stringify(p.exit)}:\n${p.logTail(1500)}`)
        .join('\n'),
    );
    const incidents = driverIncidents.slice(this.incidentsBefore);
    this.check(
      'the driver saw no uncaught exception',
      incidents.length === 0,
      incidents.join('\n'),
    );
    const outside: string[] = [];
    for (const url of await this.masterUrls()) {
      const redis = new Redis(url, { maxRetriesPerRequest: 3 });
      try {
        outside.push(...(await keysOutsidePrefix(redis, `${PREFIX}:`)));
      } finally {
        redis.disconnect();
      }
    }
    this.check(
      'nothing written outside the key prefix (SCAN)',
      outside.length === 0,
      outside.slice(0, 10).join(', '),
    );
    return { metrics, dump };
  }

  /** Every live master (one URL for a single server). */
  private async masterUrls(): Promise<string[]> {
    if (this.target.kind === 'single') return [this.target.server.url];
    const nodes = await this.target.cluster.listNodes();
    return nodes
      .filter((n) => n.role === 'master' && !n.failed)
      .map((n) => `redis://127.0.0.1:${n.port}`);
  }

  /** Counts log lines matching `pattern` over every pod's log. */
  countInLogs(pattern: RegExp): number {
    let n = 0;
    for (const p of this.allPods) {
      try {
        const text = readFileSync(p.logFile, 'utf8');
        n += text.split('\n').filter((l) => pattern.test(l)).length;
      } catch {
        // no log
      }
    }
    return n;
  }

  /** Kills whatever is left, stops Redis and removes the directory (unless --keep). */
  async dispose(): Promise<void> {
    this.tearingDown = true;
    await Promise.all(this.allPods.map((p) => (p.alive ? p.kill() : Promise.resolve())));
    await this.producer?.stop().catch(() => undefined);
    this.producerCluster?.disconnect();
    try {
      this.oracle.close();
    } catch {
      // already closed
    }
    await stopRedis(this.target);
    if (!this.params.keep) {
      rmSync(this.dir, { recursive: true, force: true });
      forgetTempDir(this.dir);
    }
  }

  elapsed(): number {
    return now() - this.started;
  }
}

function errorName(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message.slice(0, 60)}` : typeof err;
}

async function stopRedis(target: ScenarioRedis | undefined): Promise<void> {
  if (target?.kind === 'single') await target.server.stop().catch(() => undefined);
  if (target?.kind === 'cluster') await target.cluster.stop().catch(() => undefined);
}

export async function keysOutsidePrefix(redis: Redis, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'COUNT', 1000);
    cursor = next;
    for (const k of keys) if (!k.startsWith(prefix)) out.push(k);
  } while (cursor !== '0');
  return out;
}

export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(errorText(e)));
      },
    );
  });
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}
