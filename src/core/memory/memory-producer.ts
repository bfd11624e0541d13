import { JobNotFoundError } from '../../errors';
import type { Clock } from '../clock';
import { JobIds } from '../producing/job-ids';
import {
  checkJob,
  type BulkJob,
  type CheckedJob,
  type EnqueueAndWaitOptions,
  type EnqueueCall,
  type EnqueueOptions,
  type WaitForJobOptions,
} from '../producing/job-request';
import { DEFAULT_WAIT_MS } from '../producing/producer';
import { storedOutcome } from '../replies/job-outcome';
import type { ReplyWaiters } from '../replies/reply-waiters';
import type { MemoryEntities } from './memory-entities';
import type { MemoryEntity } from './memory-entity';
import type { StoredJob } from './memory-job';

/** What the in-memory engine's enqueue family needs from the engine. */
export interface ProducerContext {
  readonly clock: Clock;
  readonly waiters: ReplyWaiters;
  readonly maxPayloadBytes: number;
  /** Throws EngineStateError unless the engine takes jobs (started, not stopping). */
  producing(): void;
  /** Each entity by type and id (checked), made on first use. */
  readonly entities: Pick<MemoryEntities, 'get'>;
}

/**
 * The in-memory engine's enqueue family: each job checked as the Redis engine checks it, stored
 * in its entity's queue (once per job id) and run; callers awaiting a result registered with the
 * engine's ReplyWaiters. Each call throws what the Redis engine's rejects with; the engine makes
 * it a rejection.
 */
export class MemoryProducer {
  private readonly ids = new JobIds();
  /** Enqueue order within the engine: orders delayed jobs due at the same time. */
  private seq = 0;

  constructor(private readonly ctx: ProducerContext) {}

  enqueue(
    type: string,
    entityId: unknown,
    name: string,
    data: unknown,
    opts: EnqueueOptions,
  ): string {
    return this.store(this.check(type, entityId, name, data, opts, 'enqueue'));
  }

  enqueueAndWait(
    type: string,
    entityId: unknown,
    name: string,
    data: unknown,
    opts: EnqueueAndWaitOptions,
  ): Promise<unknown> {
    const job = this.check(type, entityId, name, data, opts, 'enqueueAndWait');
    const stored = job.entity.queue.find(job.jobId);
    const waiter = this.expect(job.entity, job.jobId, opts, stored);
    if (!stored) this.store(job);
    return waiter;
  }

  waitForJob(
    type: string,
    entityId: unknown,
    jobId: string,
    opts: WaitForJobOptions,
  ): Promise<unknown> {
    this.ctx.producing();
    const entity = this.ctx.entities.get(type, entityId);
    const stored = entity.queue.find(jobId);
    if (!stored) throw new JobNotFoundError(entity.type, entity.id, jobId);
    return this.expect(entity, jobId, opts, stored);
  }

  enqueueBulk(items: ReadonlyArray<BulkJob>): string[] {
    const jobs = items.map((i) =>
      this.check(i.type, i.entityId, i.name, i.data, i.opts ?? {}, 'enqueueBulk'),
    );
    return jobs.map((job) => this.store(job));
  }

  private check(
    type: string,
    entityId: unknown,
    name: string,
    data: unknown,
    opts: EnqueueOptions,
    call: EnqueueCall,
  ): CheckedJob<MemoryEntity> {
    this.ctx.producing();
    return checkJob(
      () => this.ctx.entities.get(type, entityId),
      name,
      data,
      opts,
      () => this.ids.next(),
      this.ctx.maxPayloadBytes,
      call,
    );
  }

  /** Stores a checked job (nothing when its id is stored already) and has it run; its id. */
  private store(job: CheckedJob<MemoryEntity>): string {
    const { entity } = job;
    if (entity.queue.find(job.jobId)) return job.jobId;
    const now = this.ctx.clock.now();
    this.seq += 1;
    const delayed = job.delay !== undefined && job.delay > 0;
    const stored: StoredJob = {
      id: job.jobId,
      name: job.name,
      json: job.json,
      timestamp: now,
      seq: this.seq,
      delay: job.delay,
      state: delayed ? 'delayed' : 'waiting',
      dueAt: now + (job.delay ?? 0),
      attemptsMade: 0,
      stalledCount: 0,
    };
    entity.queue.add(stored);
    entity.pump();
    return job.jobId;
  }

  /**
   * A caller waiting for a job's result: at once when `stored` has finished (read back as from
   * Redis), else when it finishes, or JobTimeoutError after `timeoutMs`.
   */
  private expect(
    entity: MemoryEntity,
    jobId: string,
    opts: WaitForJobOptions,
    stored: StoredJob | undefined,
  ): Promise<unknown> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_WAIT_MS;
    const waiter = this.ctx.waiters.expect(jobId, timeoutMs, entity.type, entity.id);
    if (stored?.state === 'completed')
      waiter.settle(
        storedOutcome(jobId, { kind: 'completed', value: stored.returnvalue ?? 'null' }),
      );
    else if (stored?.state === 'failed')
      waiter.settle(storedOutcome(jobId, { kind: 'failed', error: stored.error ?? '{}' }));
    return waiter.promise;
  }
}
