import type { EntityHandle } from './entity';
import type { EnqueueOptions } from './engine';

export interface PendingJob {
  name: string;
  data: unknown;
  opts: EnqueueOptions;
}

/** One caller's jobs (one `enqueue`, or one chunk of `enqueueBulk`), settled together. */
export interface AddRequest {
  jobs: ReadonlyArray<PendingJob>;
  resolve(ids: string[]): void;
  reject(error: unknown): void;
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

  add(entity: EntityHandle, jobs: ReadonlyArray<PendingJob>): Promise<string[]> {
    return new Promise((resolve, reject) => {
      let group = this.groups.get(entity.ref);
      if (!group) {
        group = { entity, requests: [], jobCount: 0 };
        this.groups.set(entity.ref, group);
      }
      group.requests.push({ jobs, resolve, reject });
      group.jobCount += jobs.length;
      if (this.jobs === 0) process.nextTick(() => this.flush());
      this.jobs += jobs.length;
    });
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
