import { EngineStateError, InvalidOptionsError } from '../../errors';
import type { EntityCatalog } from '../entities/entity-catalog';
import type { EntityHandle } from '../entities/entity';
import { makeReplyId } from '../replies/reply-id';
import type { ReplyWaiters } from '../replies/reply-waiters';
import type { PendingJob } from './add-batcher';
import type { AddTransport } from './add-transport';
import {
  checkJob,
  type EnqueueAndWaitOptions,
  type EnqueueCall,
  type EnqueueOptions,
} from './job-request';

/** Jobs of one entity sent per pipeline by `enqueueBulk`. */
const BULK_CHUNK = 500;
/** `enqueueAndWait`'s default wait for the result. */
const DEFAULT_WAIT_MS = 30_000;

/** One item of `enqueueBulk`. */
export interface BulkJob {
  type: string;
  entityId: unknown;
  name: string;
  data: unknown;
  opts?: EnqueueOptions;
}

/** What producing needs from the pod. */
export interface ProducerContext {
  readonly podId: string;
  readonly maxPayloadBytes: number;
  readonly catalog: EntityCatalog;
  readonly transport: AddTransport;
  readonly waiters: ReplyWaiters;
  /** The engine's state, for the error when it is not started. */
  state(): string;
}

/** The enqueue family: checks each job at the boundary, then hands it to the transport. */
export class Producer {
  private replySeq = 0;

  constructor(private readonly ctx: ProducerContext) {}

  /** Stores a job for an entity; resolves with its id once Redis has it. */
  async enqueue(
    type: string,
    entityId: unknown,
    name: string,
    data: unknown,
    opts: EnqueueOptions = {},
  ): Promise<string> {
    const job = this.check(type, entityId, name, data, opts, opts?.jobId, 'enqueue');
    const [id] = await this.ctx.transport.add(job.entity, [job]);
    return id;
  }

  /** Enqueues and waits for the handler's result; rejects with the handler's error. */
  async enqueueAndWait(
    type: string,
    entityId: unknown,
    name: string,
    data: unknown,
    opts: EnqueueAndWaitOptions = {},
  ): Promise<unknown> {
    if (opts.jobId !== undefined)
      throw new InvalidOptionsError(
        'jobId',
        'unset for enqueueAndWait (the engine picks a routable id)',
        opts.jobId,
      );
    this.replySeq += 1;
    const jobId = makeReplyId(this.ctx.podId, this.replySeq);
    const job = this.check(type, entityId, name, data, opts, jobId, 'enqueueAndWait');
    const waiters = this.ctx.waiters;
    // Awaited only until the first subscription is up: a burst of calls (the benchmarks' waves
    // make 50,000 at once) should not pay a promise and a turn each for it.
    if (!waiters.isReady) await waiters.ready();
    const outcome = waiters.expect(
      jobId,
      opts.timeoutMs ?? DEFAULT_WAIT_MS,
      job.entity.type,
      job.entity.id,
    );
    // The result may arrive (even as a failure) before the enqueue's own reply: a failed enqueue
    // settles the outcome too (forget), so exactly one rejection reaches the caller.
    this.ctx.transport.add(job.entity, [job]).catch((err: unknown) => waiters.forget(jobId, err));
    return outcome;
  }

  /** Enqueues many jobs; resolves with their ids in order. Jobs of one entity keep their order. */
  async enqueueBulk(items: ReadonlyArray<BulkJob>): Promise<string[]> {
    const prepared = items.map((i) =>
      this.check(i.type, i.entityId, i.name, i.data, i.opts ?? {}, i.opts?.jobId, 'enqueueBulk'),
    );
    // One entity's jobs go in order, in pipelines of up to BULK_CHUNK; entities in parallel.
    const byEntity = new Map<string, { entity: EntityHandle; slots: number[] }>();
    prepared.forEach(({ entity }, i) => {
      const group = byEntity.get(entity.ref) ?? { entity, slots: [] };
      group.slots.push(i);
      byEntity.set(entity.ref, group);
    });
    const ids: string[] = new Array<string>(items.length);
    await Promise.all(
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
    return ids;
  }

  private check(
    type: string,
    entityId: unknown,
    name: string,
    data: unknown,
    opts: EnqueueOptions,
    jobId: string | undefined,
    call: EnqueueCall,
  ): PendingJob {
    const state = this.ctx.state();
    if (state !== 'started') throw new EngineStateError(`Cannot enqueue: the engine is ${state}`);
    return checkJob(
      () => this.ctx.catalog.handle(type, entityId),
      name,
      data,
      opts,
      jobId,
      this.ctx.maxPayloadBytes,
      call,
    );
  }
}
