import { AtomicEngine } from 'atomic-queues';

export async function main(): Promise<void> {
  const engine = new AtomicEngine({ redis: 'redis://127.0.0.1:6379', keyPrefix: 'shop' });
  // `job.data` has the type you declare (`unknown` if you don't).
  engine.registerHandler<{ quantity: number }>('product', async (job, ctx) => {
    // One job per product at a time, across every process running this code.
    const { quantity } = job.data;
    return { product: ctx.entityId, reserved: quantity, fence: ctx.fencingToken };
  });
  await engine.start();

  await engine.enqueue('product', 'sku-42', 'reserve', { quantity: 1 });
  const result = await engine.enqueueAndWait('product', 'sku-42', 'reserve', { quantity: 2 });
  console.log(result);

  await engine.stop(); // finishes running jobs, releases leases, closes connections
}
