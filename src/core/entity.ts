import type { IQueueBackend } from 'bullmq';
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

  jobKey(jobId: string): string {
    return `${this.jobKeyPrefix}${jobId}`;
  }

  lockKey(jobId: string): string {
    return `${this.jobKeyPrefix}${jobId}:lock`;
  }
}
