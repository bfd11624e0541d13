import { EngineStateError, JobNotFoundError, rejected } from '../../errors';
import type { RedisClient } from '../../redis/connections';
import { awaitJob } from '../../redis/scripts/await';
import type { EntityCatalog } from '../entities/entity-catalog';
import type { EntityHandle } from '../entities/entity';
import type { JobTracing, SendSpan } from '../observability/job-tracing';
import { storedOutcome, type JobOutcome } from '../replies/job-outcome';
import type { AwaitedJob, ReplyWaiters } from '../replies/reply-waiters';
import type { PendingJob } from './add-batcher';
import type { AddTransport } from './add-transport';
import { enqueueError } from './enqueue-errors';
import { JobIds } from './job-ids';
import {
  checkJob,
  type BulkJob,
  type EnqueueAndWaitOptions,
  type EnqueueCall,
  type EnqueueOptions,
  type WaitForJobOptions,
} from './job-request';

/** Jobs of one entity sent per pipeline by `enqueueBulk`. */
const BULK_CHUNK = 500;
/** How long callers wait for a result by default. */
export const DEFAULT_WAIT_MS = 30_000;

/** What producing needs from the pod. */
export interface ProducerContext {
  readonly podId: string;
  readonly redis: RedisClient;
  readonly maxPayloadBytes: number;
  readonly catalog: EntityCatalog;
  readonly transport: AddTransport;
  readonly waiters: ReplyWaiters;
  /** Spans and trace context, when `@opentelemetry/api` is installed. */
  readonly tracing?: JobTracing;
  /** The engine's state, for the error when it is not started. */
  state(): string;
}

/** The enqueue family: checks each job at the boundary, then hands it to the transport. */
export class Producer {
  private readonly ids = new JobIds();
  private readonly makeId = (): string => this.ids.next();

  constructor(private readonly ctx: ProducerContext) {}

  /** Stores a job for an entity; resolves with its id once Redis has it. */
  async enqueue(
    type: string,
    entityId: unknown,
    name: string,
    data: unknown,
    opts: EnqueueOptions = {},
  ): Promise<string> {
    const job = this.check(type, entityId, name, data, opts, 'enqueue');
    const span = this.traceOne(job);
    const [id] = await traced(span, this.ctx.transport.add(job.entity, [job]));
    return id;
  }

  /**
   * Enqueues and waits for the handler's result; rejects with the handler's error. With a
   * `jobId` already stored, nothing is added: the caller gets that job's result (at once when it
   * has finished).
   */
  enqueueAndWait(
    type: string,
    entityId: unknown,
    name: string,
    data: unknown,
    opts: EnqueueAndWaitOptions = {},
  ): Promise<unknown> {
    // Not async: a burst of calls (the benchmarks' waves make 50,000 at once) keeps every call's
    // promises alive until its result; the waiter's promise is the only one.
    let job: PendingJob;
    try {
      job = this.check(type, entityId, name, data, opts, 'enqueueAndWait');
    } catch (err) {
      return rejected(err);
    }
    const waiters = this.ctx.waiters;
    if (!waiters.isReady) return waiters.ready().then(() => this.sendAwaited(job, opts));
    return this.sendAwaited(job, opts);
  }

  private sendAwaited(job: PendingJob, opts: EnqueueAndWaitOptions): Promise<unknown> {
    const waiter = this.ctx.waiters.expect(
      job.jobId,
      opts.timeoutMs ?? DEFAULT_WAIT_MS,
      job.entity.type,
      job.entity.id,
    );
    job.waiter = waiter;
    const span = this.traceOne(job);
    // The result may arrive (even as a failure) before the enqueue's own reply: a failed enqueue
    // settles the waiter too, so exactly one rejection reaches the caller.
    if (span) {
      traced(span, this.ctx.transport.add(job.entity, [job])).catch((err: unknown) =>
        waiter.fail(err),
      );
    } else {
      this.ctx.transport.addAwaited(job.entity, job, waiter);
    }
    return waiter.promise;
  }

  /**
   * Waits for the result of a job enqueued earlier (by any pod), addressed by its entity and
   * id: resolves with its result, or rejects with its error (JobFailedError), at once when it has
   * finished; JobNotFoundError when no such job is stored.
   */
  async waitForJob(
    type: string,
    entityId: unknown,
    jobId: string,
    opts: WaitForJobOptions = {},
  ): Promise<unknown> {
    this.started();
    const entity = this.ctx.catalog.handle(type, entityId);
    const waiters = this.ctx.waiters;
    await waiters.ready();
    const waiter = waiters.expect(jobId, opts.timeoutMs ?? DEFAULT_WAIT_MS, entity.type, entity.id);
    awaitJob(this.ctx.redis, entity.keys, jobId, this.ctx.podId).then(
      (reply) => {
        if (reply.kind === 'completed' || reply.kind === 'failed')
          waiter.settle(storedOutcome(jobId, reply));
        else if (reply.kind === 'missing')
          waiter.fail(new JobNotFoundError(entity.type, entity.id, jobId));
      },
      (err: unknown) => waiter.fail(enqueueError(err, entity)),
    );
    return waiter.promise;
  }

  /**
   * The outcome of a job awaited here when it has finished, read from Redis (undefined while it
   * has not, or when it is not stored yet); the pod stays among the job's waiters.
   */
  async storedOutcome(job: AwaitedJob): Promise<JobOutcome | undefined> {
    const entity = this.ctx.catalog.handle(job.entityType, job.entityId);
    const reply = await awaitJob(this.ctx.redis, entity.keys, job.jobId, this.ctx.podId);
    if (reply.kind === 'completed' || reply.kind === 'failed')
      return storedOutcome(job.jobId, reply);
    return undefined;
  }

  /** Enqueues many jobs; resolves with their ids in order. Jobs of one entity keep their order. */
  async enqueueBulk(items: ReadonlyArray<BulkJob>): Promise<string[]> {
    const prepared = items.map((i) =>
      this.check(i.type, i.entityId, i.name, i.data, i.opts ?? {}, 'enqueueBulk'),
    );
    const span = this.traceBulk(prepared);
    // One entity's jobs go in order, in pipelines of up to BULK_CHUNK; entities in parallel.
    const byEntity = new Map<string, { entity: EntityHandle; slots: number[] }>();
    prepared.forEach(({ entity }, i) => {
      const group = byEntity.get(entity.ref) ?? { entity, slots: [] };
      group.slots.push(i);
      byEntity.set(entity.ref, group);
    });
    const ids: string[] = new Array<string>(items.length);
    const sending = Promise.all(
      [...byEntity.values()].map(async ({ entity, slots }) => {
        for (let start = 0; start < slots.length; start += BULK_CHUNK) {
          const chunk = slots.slice(start, start + BULK_CHUNK);
          const chunkIds = await this.ctx.transport.add(
            entity,
            chunk.map((i) => prepared[i]),
          );
          chunk.forEach((slot, j) => (ids[slot] = chunkIds[j]));
        }
      }),
    );
    await traced(span, sending);
    return ids;
  }

  /** The producer span of one job, whose context the job then carries; none when untraced. */
  private traceOne(job: PendingJob): SendSpan | undefined {
    const span = this.ctx.tracing?.send(job.entity.type, 1, job.jobId, job.entity.id);
    if (span) job.trace = span.carried;
    return span;
  }

  /** One producer span for a bulk enqueue, named for its entity type when it has only one. */
  private traceBulk(jobs: PendingJob[]): SendSpan | undefined {
    const tracing = this.ctx.tracing;
    if (!tracing?.active || jobs.length === 0) return undefined;
    const type = jobs[0].entity.type;
    const oneType = jobs.every((job) => job.entity.type === type);
    const span = tracing.send(oneType ? type : undefined, jobs.length);
    if (span) for (const job of jobs) job.trace = span.carried;
    return span;
  }

  private started(): void {
    const state = this.ctx.state();
    if (state !== 'started') throw new EngineStateError(`Cannot enqueue: the engine is ${state}`);
  }

  private check(
    type: string,
    entityId: unknown,
    name: string,
    data: unknown,
    opts: EnqueueOptions,
    call: EnqueueCall,
  ): PendingJob {
    this.started();
    return checkJob(
      () => this.ctx.catalog.handle(type, entityId),
      name,
      data,
      opts,
      this.makeId,
      this.ctx.maxPayloadBytes,
      call,
    );
  }
}

/** `work`, ending `span` (when there is one) as it settles. */
function traced<T>(span: SendSpan | undefined, work: Promise<T>): Promise<T> {
  if (!span) return work;
  return work.then(
    (value) => {
      span.end();
      return value;
    },
    (err: unknown) => {
      span.end(err);
      throw err;
    },
  );
}
