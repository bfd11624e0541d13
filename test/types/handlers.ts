// Handlers see the job data type they declare, never `any` (checked by
// test/unit/type-checks.test.ts, as test/types/commands.ts is).
import type { Job } from 'bullmq';
import { AtomicEngine, JobHandler, WorkerProcessor, type JobContext } from '../../src';

interface Reserve {
  quantity: number;
}

export function engineHandlers(engine: AtomicEngine): void {
  engine.registerHandler<Reserve>('product', (job, ctx) => ({
    product: ctx.entityId,
    reserved: job.data.quantity,
  }));
  // @ts-expect-error TS2339 job.data is a Reserve
  engine.registerHandler<Reserve>('product', (job) => job.data.qty);
  // @ts-expect-error TS2339 a number has no toUpperCase
  engine.registerHandler<Reserve>('product', (job) => job.data.quantity.toUpperCase());
  // @ts-expect-error TS18046 undeclared, job.data is unknown, not any
  engine.registerHandler('product', (job) => job.data.quantity);
}

class AddCommand {
  constructor(
    readonly counterId: string,
    readonly by: number,
  ) {}
}

@WorkerProcessor({ entityType: 'counter' })
export class CounterProcessor {
  @JobHandler('counter.add')
  add(job: Job<AddCommand>, counterId: string, context: JobContext): string {
    return `${counterId} ${job.data.by + 1} ${context.fencingToken}`;
  }

  @JobHandler('counter.reset')
  reset(job: Job<AddCommand, number>): number {
    return job.data.by;
  }

  // @ts-expect-error TS1241 the entity id is a string
  @JobHandler('counter.wrong-id')
  wrongId(job: Job<AddCommand>, counterId: number): number {
    return counterId + job.data.by;
  }

  // @ts-expect-error TS1241 the first parameter is the job, not its data
  @JobHandler('counter.wrong-job')
  wrongJob(command: AddCommand): number {
    return command.by;
  }
}
