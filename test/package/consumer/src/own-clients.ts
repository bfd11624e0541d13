// The app's own ioredis clients, Redis and Cluster, of whichever ioredis major the app installed,
// are accepted wherever the library takes a connection. Only compiled, never run.
import { AtomicEngine, AtomicQueuesModule, type RedisConnection } from 'atomic-queues';
import Redis, { Cluster } from 'ioredis';

export function ownClients(redis: Redis, cluster: Cluster): unknown[] {
  const connections: RedisConnection[] = [redis, cluster, redis.duplicate(), cluster.duplicate()];
  return [
    ...connections,
    new AtomicEngine({ redis: cluster }),
    AtomicQueuesModule.forRoot({ redis: cluster, keyPrefix: 'myapp' }),
    AtomicQueuesModule.forRootAsync({ useFactory: () => ({ redis }) }),
    // The README's snippet.
    AtomicQueuesModule.forRoot({
      redis: new Cluster(
        [
          { host: 'redis-0', port: 6379 },
          { host: 'redis-1', port: 6379 },
        ],
        { redisOptions: { maxRetriesPerRequest: null } },
      ),
    }),
  ];
}
