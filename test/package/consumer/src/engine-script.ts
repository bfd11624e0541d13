// The engine without NestJS, given the app's own ioredis client.
import { AtomicEngine } from 'atomic-queues';
import { appRedis, connectionNames, environment, report, run } from './environment';

const { redisUrl, keyPrefix } = environment();
const redis = appRedis(redisUrl, keyPrefix);

run(async () => {
  const engine = new AtomicEngine({ redis, keyPrefix });
  engine.registerHandler('product', (job, ctx) => {
    const { quantity } = job.data as { quantity: number };
    return Promise.resolve({ product: ctx.entityId, reserved: quantity });
  });
  await engine.start();
  const result = await engine.enqueueAndWait('product', 'sku-42', 'reserve', { quantity: 2 });
  const connections = await connectionNames(redis, keyPrefix);
  await engine.stop();
  await redis.quit();
  report({ result, connections });
});
