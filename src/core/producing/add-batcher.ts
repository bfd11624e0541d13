import type { ChainableCommander } from 'ioredis';
import type { RedisClient } from '../../redis/connections';
import { isAborted } from '../../redis/redis-errors';
import type { EntityHandle } from '../entities/entity';
import type { Waiter } from '../replies/reply-waiters';

/** One job, checked at the boundary, on its way to Redis. */
export interface PendingJob {
  entity: EntityHandle;
  name: string;
  data: unknown;
  /** The payload as BullMQ's Job.asJSON stores it (made once, by the payload check). */
  json: string;
  /** The caller's job id, or one the engine made. */
  jobId: string;
  delay: number | undefined;
  /** The caller awaiting the job's result on this pod (enqueueAndWait), if any. */
  waiter?: Waiter;
  /** The trace context of its enqueue (`aqt`), when a tracer provider is registered. */
  trace?: string;
}

/** One caller's jobs (one `enqueue`, or one chunk of `enqueueBulk`), settled together. */
export interface AddRequest {
  readonly jobs: ReadonlyArray<PendingJob>;
  /** Every job is stored. */
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * The request of one `enqueueAndWait`: its caller holds the waiter's promise, not the add's, so
 * a failed add fails the waiter and a stored one needs nothing (no promise per job for the add).
 */
export class AwaitedAdd implements AddRequest {
  readonly jobs: ReadonlyArray<PendingJob>;

  constructor(
    job: PendingJob,
    private readonly waiter: Waiter,
  ) {
    this.jobs = [job];
  }

  resolve(): void {}

  reject(error: unknown): void {
    this.waiter.fail(error);
  }
}

/** The requests of one entity gathered in one turn, in call order. */
export interface AddGroup {
  entity: EntityHandle;
  requests: AddRequest[];
  jobCount: number;
}

/** Jobs per pipeline: large enough to amortize it, small enough that pods start early. */
const MAX_JOBS_PER_SEND = 1000;

/**
 * Gathers the enqueues made in one turn of the event loop, by entity, and hands them over in
 * batches: one pipeline, and one claim per entity instead of one per job. A burst of requests
 * (an HTTP server under load, `Promise.all` over many calls) then costs a few round trips and
 * claims, not one of each per job. Order within an entity is call order.
 */
export class AddBatcher {
  private groups = new Map<string, AddGroup>();
  private jobs = 0;

  constructor(private readonly send: (groups: AddGroup[]) => void) {}

  /** Resolves with the jobs' ids once they are stored. */
  add(entity: EntityHandle, jobs: ReadonlyArray<PendingJob>): Promise<string[]> {
    return new Promise((resolve, reject) => {
      this.queue(entity, { jobs, resolve: () => resolve(jobs.map((job) => job.jobId)), reject });
    });
  }

  queue(entity: EntityHandle, request: AddRequest): void {
    let group = this.groups.get(entity.ref);
    if (!group) {
      group = { entity, requests: [], jobCount: 0 };
      this.groups.set(entity.ref, group);
    }
    group.requests.push(request);
    group.jobCount += request.jobs.length;
    if (this.jobs === 0) process.nextTick(() => this.flush());
    this.jobs += request.jobs.length;
  }

  private flush(): void {
    const groups = [...this.groups.values()];
    this.groups = new Map();
    this.jobs = 0;
    let batch: AddGroup[] = [];
    let size = 0;
    for (const group of groups) {
      batch.push(group);
      size += group.jobCount;
      if (size >= MAX_JOBS_PER_SEND) {
        this.send(batch);
        batch = [];
        size = 0;
      }
    }
    if (batch.length > 0) this.send(batch);
  }
}

/** A Redis client or a pipeline: what a command of an enqueue batch is queued on. */
type CommandTarget = RedisClient | ChainableCommander;

/**
 * Where the commands of one enqueue batch go, in order: a Pipeline (one write for many), or
 * straight onto the connection. Replies come back as a pipeline's do, `[error, reply]` each.
 */
export interface AddSink {
  /** Commands queued so far. */
  readonly length: number;
  /** Queues one command; `send` must issue it synchronously on the target it is given. */
  queue(send: (target: CommandTarget) => unknown): void;
  exec(): Promise<[Error | null, unknown][]>;
}

/**
 * A batch of one job skips the Pipeline: building one copies every script definition of the
 * connection (~150 with BullMQ's), ~60 µs here, a tenth of a warm enqueueAndWait. Commands
 * written one after another on one connection keep their order all the same.
 */
export function addSink(client: RedisClient, jobs: number, pipelined = jobs !== 1): AddSink {
  return pipelined ? pipelineSink(client) : directSink(client);
}

/**
 * A Pipeline whose connection closed part-way through: ioredis resends it only whole, so once one
 * of its replies came back it rejects the commands after the first lost reply (AbortError), which
 * Redis may or may not have run: a claim that went through would leave the entity held by a
 * runner that doesn't exist until the lease expires. Every command of an enqueue is safe to run
 * twice (an add finds its job id stored, a claim finds its own token, an index entry or an await
 * is written again), so those are sent again, in order, on the connection.
 */
function pipelineSink(client: RedisClient): AddSink {
  const pipeline = client.pipeline();
  const sends: ((target: CommandTarget) => unknown)[] = [];
  return {
    get length() {
      return sends.length;
    },
    queue(send) {
      sends.push(send);
      send(pipeline);
    },
    async exec() {
      const replies = (await pipeline.exec()) ?? [];
      const aborted = replies.findIndex(([error]) => isAborted(error));
      if (aborted < 0) return replies;
      const again = directSink(client);
      for (const send of sends.slice(aborted)) again.queue(send);
      return [...replies.slice(0, aborted), ...(await again.exec())];
    },
  };
}

function directSink(client: RedisClient): AddSink {
  const replies: Promise<[Error | null, unknown]>[] = [];
  return {
    get length() {
      return replies.length;
    },
    queue(send) {
      const sent = send(client) as Promise<unknown>;
      replies.push(
        sent.then(
          (reply): [null, unknown] => [null, reply],
          (err: Error): [Error, undefined] => [err, undefined],
        ),
      );
    },
    exec() {
      return Promise.all(replies);
    },
  };
}
