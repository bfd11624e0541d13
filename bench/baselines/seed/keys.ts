/** Names of the atomic-queues 1.x baseline's Redis keys and queues (the only place they are built). */

/** BullMQ queue of one entity (BullMQ forbids `:` in queue names). */
export function seedQueueName(entityId: string): string {
  return `seed-${entityId}-queue`;
}

/** The claim of an entity's worker: `SET NX` with a TTL, value = pod id. */
export function seedClaimKey(prefix: string, entityId: string): string {
  return `${prefix}:seed:claim:${entityId}`;
}

/** Spawn requests: a producer publishes an entity id; every pod tries to claim it. */
export function seedSpawnChannel(prefix: string): string {
  return `${prefix}:seed:spawn`;
}
