import { AtomicQueuesModule } from 'atomic-queues';

export const queues = AtomicQueuesModule.forRoot({
  // ── Redis connection: options, a URL, or your own ioredis Redis / Cluster ──
  redis: {
    host: 'redis',
    port: 6379,
    password: 'secret', // optional; never logged
  },

  // ── Global settings ──
  keyPrefix: 'myapp', // Redis key namespace: letters, digits, _ . - : (default: 'aq')
  enableCronManager: true, // the safety sweep that takes over a dead pod's entities (default: true)
  cronInterval: 1000, // ms between sweeps (default: 1000)
  processing: true, // false: a producer-only pod (enqueues, runs nothing)
  enqueueTimeoutMs: 5000, // an enqueue Redis does not confirm in time rejects
  maxPayloadBytes: 512 * 1024, // larger payloads are refused at enqueue
  startTimeoutMs: 10_000, // bootstrap fails (RedisConnectionError) without Redis after this long
  stopTimeoutMs: 10_000, // shutdown stops waiting for an unreachable Redis after this long
  // durability: { replicas: 1, timeoutMs: 500 }, // enqueue waits for a replica (Redis Cluster)
  // logger: false, // no log lines (default: Nest's Logger; without Nest, the console)

  // ── Worker defaults ──
  workerDefaults: {
    concurrency: 1, // jobs of one entity at once on a pod; above 1 gives up order
    heartbeatTTL: 3, // lease TTL in seconds; a dead pod's entities move within about this long
  },

  // ── Per entity type (optional) ──
  entities: {
    account: {
      queueName: (id) => `account-${id}-queue`,
      workerName: (id) => `account-${id}-worker`,
      maxWorkersPerEntity: 1, // pods that may run one entity at once; above 1 gives up exclusion
      idleTimeoutSeconds: 15, // an idle entity's lease is released after this long
      defaultEntityId: 'accountId', // id property for commands without @QueueEntityId
      attempts: 3, // runs before a job is failed; retries keep the entity's order
      backoff: { type: 'exponential', delay: 100 },
      onFailure: 'continue', // or 'pause' the entity after a job's last failed attempt
      workerConfig: { concurrency: 1 },
      batchSize: 64, // with a backlog, jobs taken and stored together; a crash re-runs at most this many
      events: true, // BullMQ's events stream per entity queue (QueueEvents); false saves a write per job
    },
  },
});
