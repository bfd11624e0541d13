import { Cluster } from 'ioredis';
import { AtomicQueuesModule } from 'atomic-queues';

// Your own ioredis Cluster; the module duplicates it for its blocking and subscriber connections.
export const queues = AtomicQueuesModule.forRoot({
  redis: new Cluster(
    [
      { host: 'redis-0', port: 6379 },
      { host: 'redis-1', port: 6379 },
    ],
    // As the module's own connections: commands wait through a reconnect (enqueue is bounded
    // by enqueueTimeoutMs) instead of failing after a few retries.
    { redisOptions: { maxRetriesPerRequest: null } },
  ),
  keyPrefix: 'myapp',
});
