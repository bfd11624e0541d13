import type { IQueueBackend, KeepJobs } from 'bullmq';
import type { KeyBuilder } from '../redis/keys';
import { EntityQueue } from './entity-queue';
import type { ResolvedEntityType } from './options';

/** Everything needed to address one entity in Redis; built once per entity and cached. */
export class EntityHandle {
  /** Stable identity, also the member stored in spawn, wake and index sets. */
  readonly ref: string;
  /** Lease of slot 0; slot n (maxWorkersPerEntity > 1) is `${leaseKey}:${n}`. */
  readonly leaseKey: string;
  readonly fenceKey: string;
  readonly slotsKey: string;
  readonly jobKeyPrefix: string;
  readonly queue: EntityQueue;
  /** `removeOnComplete` as the complete script reads it: keep count, keep age (s) or "", limit. */
  readonly keepCompleted: readonly [number, number | '', number];
  private addKeysCache?: readonly string[];
  private optsCache?: string;

  constructor(
    readonly config: ResolvedEntityType,
    readonly id: string,
    readonly queueName: string,
    keys: KeyBuilder,
    root: IQueueBackend,
    lockDurationMs: number,
  ) {
    this.ref = EntityHandle.ref(config.type, id);
    this.leaseKey = keys.leaseKey(queueName);
    this.fenceKey = keys.fenceKey(queueName);
    this.slotsKey = keys.slotsKey(queueName);
    this.jobKeyPrefix = keys.jobKeyPrefix(queueName);
    this.queue = new EntityQueue(queueName, root.forQueue(queueName), {
      prefix: keys.prefix,
      lockDuration: lockDurationMs,
    });
    this.keepCompleted = keepJobsArgs(config.removeOnComplete);
  }

  get type(): string {
    return this.config.type;
  }

  get backend(): IQueueBackend {
    return this.queue.backend;
  }

  static ref(type: string, id: string): string {
    return JSON.stringify([type, id]);
  }

  static parseRef(ref: string): [string, string] | undefined {
    try {
      const parsed: unknown = JSON.parse(ref);
      if (
        Array.isArray(parsed) &&
        parsed.length === 2 &&
        typeof parsed[0] === 'string' &&
        typeof parsed[1] === 'string'
      ) {
        return [parsed[0], parsed[1]];
      }
    } catch {
      // not one of ours: the caller drops it
    }
    return undefined;
  }

  /** Keys of the claim script, in its KEYS order. */
  claimKeys(): string[] {
    const k = this.queue.keys;
    return [
      this.leaseKey,
      this.fenceKey,
      k.wait,
      k.active,
      k.prioritized,
      k.delayed,
      k.meta,
      k.events,
      k.marker,
      this.slotsKey,
    ];
  }

  leaseKeyOf(slot: number): string {
    return slot === 0 ? this.leaseKey : `${this.leaseKey}:${slot}`;
  }

  /** Keys of the release, relinquish and inspect scripts: lease, wait, active, prioritized, delayed, meta. */
  stateKeys(leaseKey = this.leaseKey): string[] {
    const k = this.queue.keys;
    return [leaseKey, k.wait, k.active, k.prioritized, k.delayed, k.meta];
  }

  idleKeys(leaseKey: string): string[] {
    const k = this.queue.keys;
    return [leaseKey, k.wait, k.prioritized, k.delayed, k.meta, k.active];
  }

  /** Keys of the add script, in its KEYS order. */
  get addKeys(): readonly string[] {
    const k = this.queue.keys;
    this.addKeysCache ??= [k.wait, k.meta, k.id, k.active, k.events, k.marker];
    return this.addKeysCache;
  }

  /**
   * A job's options as BullMQ stores them (JSON of Job.opts): BullMQ's `attempts: 0` (the engine
   * retries in place), the type's removeOnComplete / removeOnFail, and the custom job id if any.
   * Built once per entity; a job id is spliced in (enqueueAndWait gives every job one).
   */
  storedOpts(jobId?: string): string {
    this.optsCache ??= JSON.stringify({
      attempts: 0,
      removeOnComplete: this.config.removeOnComplete,
      removeOnFail: this.config.removeOnFail,
    });
    if (jobId === undefined) return this.optsCache;
    return `${this.optsCache.slice(0, -1)},"jobId":${JSON.stringify(jobId)}}`;
  }

  /** Keys of the complete script, in its KEYS order. */
  completeKeys(jobId: string): string[] {
    const k = this.queue.keys;
    return [
      k.wait,
      k.active,
      k.stalled,
      k.events,
      k.completed,
      this.jobKey(jobId),
      this.lockKey(jobId),
      k.meta,
      k.delayed,
      k.prioritized,
      k.marker,
    ];
  }

  jobKey(jobId: string): string {
    return `${this.jobKeyPrefix}${jobId}`;
  }

  lockKey(jobId: string): string {
    return `${this.jobKeyPrefix}${jobId}:lock`;
  }
}

/** BullMQ's reading of `removeOnComplete` (true: remove now; false: keep all; n: keep n). */
function keepJobsArgs(keep: boolean | number | KeepJobs): [number, number | '', number] {
  if (typeof keep === 'boolean') return [keep ? 0 : -1, '', 1000];
  if (typeof keep === 'number') return [keep, '', 1000];
  const { count, age, limit } = keep as { count?: number; age?: number; limit?: number };
  return [count ?? -1, age ?? '', limit ?? 1000];
}
