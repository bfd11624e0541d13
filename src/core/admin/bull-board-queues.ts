import { Queue, type ConnectionOptions } from 'bullmq';
import type { EntityPage, EntityScanOptions } from './entity-scan';
import type { FailedEntity, ListPage, PageOptions } from './failed-jobs';

/** Which entities' queues {@link bullBoardQueues} gives, and how they connect. */
export interface BullBoardQueuesOptions {
  /**
   * How the queues reach Redis: an ioredis client (shared: closing a queue leaves it open) or
   * connection settings (each queue opens its own connection).
   */
  connection: ConnectionOptions;
  /** The entities with the largest backlog, at most this many (0: none). @defaultValue 20 */
  busiest?: number;
  /** Also every entity that keeps failed jobs (of the engine's declared types). @defaultValue true */
  failed?: boolean;
}

/** What {@link bullBoardQueues} reads from the engine: an `AtomicEngine` (started) is one. */
export interface BullBoardSource {
  readonly keyPrefix: string;
  entityTypes(): string[];
  queueName(type: string, entityId: unknown): string;
  scanEntities(opts?: EntityScanOptions): Promise<EntityPage>;
  listFailedEntities(type: string, opts?: PageOptions): Promise<ListPage<FailedEntity>>;
}

/** Failed entities taken per declared type, at most (the earliest first failures). */
const MAX_FAILED_PER_TYPE = 1000;

/**
 * BullMQ `Queue` objects for the entities an operator cares about, to hand to bull-board
 * (`new BullMQAdapter(queue)` each): the `busiest` by backlog, then those with failed jobs,
 * each entity once. Reads every entity (ZSCAN pages of 1,000, none blocking Redis): call it when
 * the board opens or every minute, not per request, and `close()` the queues it gave before
 * asking again.
 */
export async function bullBoardQueues(
  engine: BullBoardSource,
  options: BullBoardQueuesOptions,
): Promise<Queue[]> {
  const { connection, busiest = 20, failed = true } = options;
  const names = new Set<string>();
  if (busiest > 0) {
    const top: { queueName: string; backlog: number }[] = [];
    let cursor: string | null = '0';
    while (cursor !== null) {
      const page: EntityPage = await engine.scanEntities({ cursor, limit: 1000 });
      for (const e of page.items) if (e.backlog > 0) top.push(e);
      top.sort((a, b) => b.backlog - a.backlog).splice(busiest);
      cursor = page.cursor;
    }
    for (const e of top) names.add(e.queueName);
  }
  if (failed) {
    for (const type of engine.entityTypes()) {
      const page = await engine.listFailedEntities(type, { limit: MAX_FAILED_PER_TYPE });
      for (const e of page.items) names.add(engine.queueName(e.entityType, e.entityId));
    }
  }
  return [...names].map((name) => new Queue(name, { connection, prefix: engine.keyPrefix }));
}
