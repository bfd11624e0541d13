import { encodeKeySegment } from '../core/entity-id';

/**
 * The only place Redis key names are built.
 *
 * Layout, with `P` the key prefix (BullMQ's `prefix` too) and `Q` an entity's queue name:
 * - `P:Q:*`              the entity's BullMQ queue (wait, active, jobs, ...), inspectable with BullMQ;
 * - `P:Q:__aq:lease`     the entity's lease (hash: owner token, pod, idle flag), with a TTL;
 * - `P:Q:__aq:fence`     the entity's fencing counter, incremented on every lease acquisition;
 * - `P:Q:__aq:slots`     token of each lease slot's last holder;
 * - `P:{__aq}:*`         pod-wide signals: spawn requests, per-pod wake-ups, the pod registry and
 *                        the entity index read by the safety sweep.
 * `Q` is always wrapped in `{...}`, so one entity's keys share a Redis Cluster hash slot.
 */
export class KeyBuilder {
  constructor(readonly prefix: string) {}

  /** Default queue name of an entity: `{<type>-<encoded id>-queue}`. */
  defaultQueueName(entityType: string, entityId: string): string {
    return `{${entityType}-${encodeKeySegment(entityId)}-queue}`;
  }

  /**
   * Turns the name a user's `queueName(id)` returned into a safe BullMQ queue name: characters
   * BullMQ or Cluster hash tags can't take are encoded, and the result is wrapped in `{...}`.
   */
  customQueueName(userName: string): string {
    return `{${userName.replace(/[%:{}\s]/gu, (c) => encodeKeySegment(c))}}`;
  }

  leaseKey(queueName: string): string {
    return `${this.prefix}:${queueName}:__aq:lease`;
  }

  fenceKey(queueName: string): string {
    return `${this.prefix}:${queueName}:__aq:fence`;
  }

  /** Hash of lease slot -> token of its last holder: tells a new holder whose jobs to recover. */
  slotsKey(queueName: string): string {
    return `${this.prefix}:${queueName}:__aq:slots`;
  }

  /** Prefix of a job's keys in a queue, as BullMQ's `queue.toKey('')`. */
  jobKeyPrefix(queueName: string): string {
    return `${this.prefix}:${queueName}:`;
  }

  /** Sorted set of entities waiting for a processing pod to claim them (score: request time). */
  spawnKey(): string {
    return `${this.prefix}:{__aq}:spawn`;
  }

  /** Sorted set of this pod's idle entities that got work from another pod. */
  wakeKey(podId: string): string {
    return `${this.prefix}:{__aq}:wake:${podId}`;
  }

  /** Hash of live pods: pod id -> `owned|processing|timestamp`. */
  podsKey(): string {
    return `${this.prefix}:{__aq}:pods`;
  }

  /** Sorted set of entities that may hold work; score: when the sweep should look at them next. */
  indexKey(): string {
    return `${this.prefix}:{__aq}:index`;
  }

  /** Pub/sub channel on which a pod receives results of jobs it enqueued and waits for. */
  replyChannel(podId: string): string {
    return `${this.prefix}:{__aq}:reply:${podId}`;
  }
}
