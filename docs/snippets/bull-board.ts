import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { Redis } from 'ioredis';
import { bullBoardQueues, type AtomicEngine } from 'atomic-queues';

// A board of the 50 busiest entities and every entity with failed jobs, refreshed each minute.
export async function queuesBoard(engine: AtomicEngine, redisUrl: string) {
  const serverAdapter = new ExpressAdapter().setBasePath('/admin/queues');
  const board = createBullBoard({ queues: [], serverAdapter });
  const connection = new Redis(redisUrl); // shared by the queues, never closed by them
  let queues = await bullBoardQueues(engine, { connection, busiest: 50, failed: true });
  board.replaceQueues(queues.map((q) => new BullMQAdapter(q)));
  setInterval(() => {
    void bullBoardQueues(engine, { connection, busiest: 50 }).then(async (next) => {
      board.replaceQueues(next.map((q) => new BullMQAdapter(q)));
      await Promise.all(queues.map((q) => q.close()));
      queues = next;
    });
  }, 60_000);
  return serverAdapter.getRouter(); // app.use('/admin/queues', router)
}
