/**
 * The only place Redis key names are built.
 *
 * Layout, with `P` the key prefix (BullMQ's `prefix` too) and `Q` an entity's queue name:
 * - `P:Q:*`              the entity's BullMQ queue (wait, active, jobs, ...), inspectable with BullMQ;
 * - `P:Q:__aq:lease`     the entity's lease (hash: owner token, pod, idle flag), with a TTL;
 * - `P:Q:__aq:fence`     the entity's last fencing token: each acquisition takes a larger one;
 * - `P:Q:__aq:slots`     token of each lease slot's last holder;
 * - `P:{__aq}:*`         pod-wide signals: spawn requests, per-pod wake-ups, the pod registry,
 *                        the entity index read by the safety sweep, the rest set, and per type
 *                        the entities that keep failed jobs.
 * `Q` is always wrapped in `{...}`, so one entity's keys share a Redis Cluster hash slot.
 */

/** Every key of one entity, built once per entity. BullMQ's names are BullMQ's `QueueKeys`. */
export interface EntityKeys {
  readonly queueName: string;
  /** Prefix of a job's keys (`P:Q:`), as BullMQ's `queue.toKey('')`. */
  readonly jobPrefix: string;
  /** Lease of slot 0; slot n (maxWorkersPerEntity > 1) is {@link leaseSlotKey}. */
  readonly lease: string;
  readonly fence: string;
  readonly slots: string;
  readonly wait: string;
  readonly active: string;
  readonly prioritized: string;
  readonly delayed: string;
  readonly meta: string;
  readonly events: string;
  readonly marker: string;
  readonly stalled: string;
  readonly completed: string;
  readonly failed: string;
  readonly id: string;
}

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

  /** The keys of the entity whose BullMQ queue is `queueName`. */
  entityKeys(queueName: string): EntityKeys {
    const jobPrefix = `${this.prefix}:${queueName}:`;
    const q = (suffix: string): string => `${jobPrefix}${suffix}`;
    return {
      queueName,
      jobPrefix,
      lease: q('__aq:lease'),
      fence: q('__aq:fence'),
      // Hash of lease slot -> token of its last holder: tells a new holder whose jobs to recover.
      slots: q('__aq:slots'),
      wait: q('wait'),
      active: q('active'),
      prioritized: q('prioritized'),
      delayed: q('delayed'),
      meta: q('meta'),
      events: q('events'),
      marker: q('marker'),
      stalled: q('stalled'),
      completed: q('completed'),
      failed: q('failed'),
      id: q('id'),
    };
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

  /**
   * Sorted set of entities at rest (no holder, no work) that still keep something: finished
   * jobs under retention; score: when the cron manager looks at them next (Redis's clock).
   */
  restKey(): string {
    return `${this.prefix}:{__aq}:rest`;
  }

  /**
   * Sorted set of the entities of `entityType` that keep failed jobs; score: when the first of
   * them failed (Redis's clock). Type names are `[A-Za-z0-9_.]`: safe in a key.
   */
  failedKey(entityType: string): string {
    return `${this.prefix}:{__aq}:failed:${entityType}`;
  }

  /** Pub/sub channel on which a pod receives results of jobs it enqueued and waits for. */
  replyChannel(podId: string): string {
    return `${this.prefix}:{__aq}:reply:${podId}`;
  }
}

/** Lease key of one of an entity's slots: slot 0 is the entity's `lease` key itself. */
export function leaseSlotKey(keys: EntityKeys, slot: number): string {
  return slot === 0 ? keys.lease : `${keys.lease}:${slot}`;
}

/** A job's hash. */
export function jobKey(keys: EntityKeys, jobId: string): string {
  return `${keys.jobPrefix}${jobId}`;
}

/** A job's lock (holds the owner token while a runner has it active). */
export function lockKey(keys: EntityKeys, jobId: string): string {
  return `${keys.jobPrefix}${jobId}:lock`;
}

/**
 * Encodes a string so that it can sit inside a BullMQ queue name and a Redis Cluster hash tag:
 * everything but `[A-Za-z0-9_.~]` becomes `%XX` of its UTF-8 bytes. The mapping is injective and
 * its output never holds `:`, `{`, `}`, `-` or white space, so no id can reach another's keys.
 */
export function encodeKeySegment(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const isSafe =
      (byte >= 0x30 && byte <= 0x39) || // 0-9
      (byte >= 0x41 && byte <= 0x5a) || // A-Z
      (byte >= 0x61 && byte <= 0x7a) || // a-z
      byte === 0x5f || // _
      byte === 0x2e || // .
      byte === 0x7e; // ~
    out += isSafe
      ? String.fromCharCode(byte)
      : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
