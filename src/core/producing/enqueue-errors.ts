import { AtomicQueuesError, RedisRefusedError } from '../../errors';
import { refusalReason } from '../../redis/redis-errors';
import type { EntityHandle } from '../entities/entity';

/**
 * The error an enqueue rejects with: the library's own as it is, a Redis refusal as
 * RedisRefusedError (the job was not stored), anything else as thrown.
 */
export function enqueueError(error: unknown, entity: EntityHandle): Error {
  if (error instanceof AtomicQueuesError) return error;
  const reason = refusalReason(error);
  if (reason === undefined) return error instanceof Error ? error : new Error(String(error));
  return new RedisRefusedError(reason, `the job for ${entity.type} \`${entity.id}\``, {
    cause: error,
  });
}
