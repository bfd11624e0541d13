import { EventEmitter } from 'node:events';
import { Job, RedisQueueBackend, raw2NextJobData } from 'bullmq';
import type { IQueueBackend, JobsOptions, KeysMap } from 'bullmq';
import type { EntityKeys } from './keys';
import type { ScriptTarget } from './script-loader';
import type { TakenJob } from './scripts/step';

/** A BullMQ script command as defined on an ioredis client or pipeline. */
type Send = (args: unknown[]) => unknown;

/** BullMQ's reply of a job fetch (`moveToActive`), or of a move that fetched the next job. */
export type NextJobData = unknown[] | undefined | void;

/**
 * What the engine keeps in a job's hash beside BullMQ's fields, as read when it was fetched:
 * whether pods awaited its result (`aqw`), and the trace context of its enqueue (`aqt`).
 */
export interface JobExtras {
  awaited: boolean;
  /** `aqt`: the W3C traceparent, then a space and the tracestate when there is one. */
  traceContext?: string;
}

const NONE: JobExtras = Object.freeze({ awaited: false });
/**
 * Where a fetched job (or a fetched job record not yet made into a job) keeps its extras: a
 * property only this module can name. A WeakMap entry per job cost ~0.3-1 µs on the hot path
 * (its set, and the garbage collector's work on weak entries); a property costs ~10 ns.
 */
const EXTRAS = Symbol('atomic-queues.extras');
type WithExtras = { [EXTRAS]?: JobExtras };

function setExtras(target: object, extras: JobExtras): void {
  (target as WithExtras)[EXTRAS] = extras;
}

function extrasOf(target: object): JobExtras | undefined {
  return (target as WithExtras)[EXTRAS];
}

/** The engine's fields of a fetched job (see {@link JobExtras}). */
export function jobExtras(job: Job): JobExtras {
  return extrasOf(job) ?? NONE;
}

/** True when pods awaited the job's result as it was fetched. */
export function isAwaited(job: Job): boolean {
  return jobExtras(job).awaited;
}

/** A backend made on first use: see {@link lazyBackend}. */
interface LazyTarget {
  readonly make: () => IQueueBackend;
  real?: IQueueBackend;
}

function realOf(target: LazyTarget): IQueueBackend {
  return (target.real ??= target.make());
}

/** One handler for every entity's lazy backend: each entity pays for a small object only. */
const LAZY: ProxyHandler<LazyTarget> = {
  get(target, prop) {
    const real = realOf(target);
    const value: unknown = Reflect.get(real, prop, real);
    return typeof value === 'function' ? (value as () => unknown).bind(real) : value;
  },
  set: (target, prop, value) => Reflect.set(realOf(target), prop, value),
  has: (target, prop) => Reflect.has(realOf(target), prop),
  getPrototypeOf: () => RedisQueueBackend.prototype,
};

/**
 * The entity's BullMQ backend (`root.forQueue`), made only when something calls it: a handler's
 * `job.updateProgress()` or `job.log()`, the admin calls, a legacy `moveToActive`. Every `Job`
 * holds its queue's backend from birth, but the engine's own hot path never calls it, and a
 * backend costs each held entity ~4 KB of heap (BullMQ's key map of ~20 key strings, getters,
 * an event emitter): 44 MB of a pod holding 10,000 entities, and garbage collector work on each
 * claim. A proxy rather than a class of our own: it stays whole as BullMQ's backend interface
 * grows.
 */
function lazyBackend(make: () => IQueueBackend): IQueueBackend {
  return new Proxy<LazyTarget>({ make }, LAZY) as unknown as IQueueBackend;
}

/**
 * One entity's BullMQ queue over the pod's shared connection: the small queue object BullMQ's
 * `Job` needs, and the BullMQ operations the engine uses on it. A full BullMQ `Queue` per entity
 * would cost a connection wrapper, listeners and a version check each; this costs a name, and a
 * key map once something calls its backend (see {@link lazyBackend}).
 */
export class EntityQueue extends EventEmitter {
  readonly closing: Promise<void> | undefined = undefined;
  readonly opts: { prefix: string; lockDuration: number };

  constructor(
    readonly name: string,
    readonly backend: IQueueBackend,
    prefix: string,
    lockDurationMs: number,
    /** BullMQ's `<prefix>:<queue name>`, read by every `Job` made: kept, not built each time. */
    readonly qualifiedName: string = backend.qualifiedName,
  ) {
    super();
    this.opts = { prefix, lockDuration: lockDurationMs };
  }

  /** The queue of `keys.queueName` on `root` (the pod's backend on its shared connection). */
  static of(
    root: RedisQueueBackend,
    keys: EntityKeys,
    prefix: string,
    lockMs: number,
  ): EntityQueue {
    const name = keys.queueName;
    const backend = lazyBackend(() => root.forQueue(name));
    return new EntityQueue(name, backend, prefix, lockMs, `${prefix}:${name}`);
  }

  get keys(): KeysMap {
    return this.backend.keys;
  }

  toKey = (type: string): string => this.backend.toKey(type);

  waitUntilReady(): Promise<void> {
    return this.backend.waitUntilReady();
  }

  async trace<T>(
    _kind: unknown,
    _op: string,
    _dst: string,
    callback: () => Promise<T> | T,
  ): Promise<T> {
    return callback();
  }

  /** A job of this queue from BullMQ's fetch reply, locked with `token`; undefined for none. */
  toJob(raw: NextJobData, token: string): Job | undefined {
    if (!raw || !Array.isArray(raw) || !raw[0]) return undefined;
    const record = raw[0];
    const job = Job.fromJSON(this, record as never, raw[1] as string);
    job.token = token;
    const extras = extrasOf(record);
    if (extras) setExtras(job, extras);
    return job;
  }

  /**
   * A job taken by `step-4.lua` (its stored fields), as BullMQ's `Job`, locked with `token`.
   * `opts` parses the job's stored options (the engine caches its own, per entity).
   */
  jobFromTaken(taken: TakenJob, token: string, opts: (raw: string | undefined) => object): Job {
    const f = taken.fields;
    const job = new Job(
      this,
      f.name ?? '',
      JSON.parse(f.data ?? '{}') as unknown,
      opts(f.opts),
      taken.id,
    );
    job.token = token;
    job.timestamp = Number(f.timestamp);
    if (f.processedOn) job.processedOn = Number(f.processedOn);
    job.attemptsMade = Number(f.atm ?? 0);
    job.attemptsStarted = Number(f.ats ?? 0);
    job.stalledCounter = Number(f.stc ?? 0);
    if (f.defa) job.deferredFailure = f.defa;
    if (f.aqw !== undefined || f.aqt !== undefined)
      setExtras(job, { awaited: f.aqw !== undefined, traceContext: f.aqt });
    return job;
  }

  /** BullMQ's fetch reply from a script's raw `{job hash (flat), job id}` reply. */
  static nextFromRaw(raw: unknown[]): NextJobData {
    const next = raw2NextJobData(raw) as unknown[];
    // BullMQ's decoding keeps only its own fields: note the engine's before they go.
    const flat = (raw[0] ?? []) as unknown[];
    let extras: JobExtras | undefined;
    for (let i = 0; i < flat.length; i += 2) {
      if (flat[i] === 'aqw') (extras ??= { awaited: false }).awaited = true;
      else if (flat[i] === 'aqt')
        (extras ??= { awaited: false }).traceContext = String(flat[i + 1]);
    }
    if (extras && next[0]) setExtras(next[0], extras);
    return next;
  }

  /** Pauses (or resumes) the queue as BullMQ does: paused, its jobs wait for `resume`. */
  pause(paused: boolean): Promise<void> {
    return this.backend.pause(paused);
  }

  /** Takes the queue's next job with BullMQ's `moveToActive`, locked with `token`. */
  moveToActive(token: string): Promise<NextJobData> {
    return this.backend.moveToActive(token) as Promise<NextJobData>;
  }

  /**
   * Queues BullMQ's `addDelayedJob` for one job on `target` (synchronously: BullMQ queues its
   * script through `runCommand`). Resolves with the job's id. BullMQ makes the job due at
   * `timestamp + delay`, compared with Redis's clock when promoted: `timestamp` is Redis's now.
   */
  sendDelayedAdd(
    target: ScriptTarget,
    job: {
      name: string;
      data: unknown;
      jobId: string | undefined;
      delay: number;
      timestamp: number;
    },
  ): Promise<unknown> {
    // No retention in the stored options: the engine's scripts apply the entity type's.
    const jobOpts: JobsOptions = { delay: job.delay, timestamp: job.timestamp };
    if (job.jobId !== undefined) jobOpts.jobId = job.jobId;
    const delayed = new Job(this, job.name, job.data, jobOpts, job.jobId);
    const bullTarget = {
      runCommand(command: string, args: unknown[]) {
        (target as unknown as Record<string, Send>)[command](args);
        return bullTarget;
      },
    };
    return (this.backend as RedisQueueBackend).addJobToTransaction(
      bullTarget as never,
      delayed.asJSON(),
      delayed.id as string,
    );
  }
}
