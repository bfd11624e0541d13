import type { KeepJobs } from 'bullmq';
import type { EntityBacklog } from '../admin/entity-admin';
import type { Clock } from '../clock';
import type { ResolvedEntityType } from '../options/resolved-options';
import type { StoredJob } from './memory-job';

type Finished = 'completed' | 'failed';

/**
 * One entity's jobs in the in-memory engine, kept as BullMQ keeps an entity's queue: waiting
 * (first in, first out), delayed (by due time, moved to the tail of waiting when a job is taken
 * after they fell due, as BullMQ's fetch does), active, and finished jobs, kept as the type's
 * `removeOnComplete` / `removeOnFail` say (a job past them counts as removed).
 */
export class MemoryQueue {
  private readonly jobs = new Map<string, StoredJob>();
  private readonly waiting: StoredJob[] = [];
  private readonly delayed: StoredJob[] = [];
  private readonly active = new Set<StoredJob>();
  private readonly finished: Record<Finished, StoredJob[]> = { completed: [], failed: [] };
  /** Paused (`pauseEntity`, or `onFailure: 'pause'`): no job is taken until resumed. */
  paused = false;

  constructor(
    private readonly config: ResolvedEntityType,
    private readonly clock: Clock,
  ) {}

  /** A stored job; a finished one past its retention counts as removed. */
  find(jobId: string): StoredJob | undefined {
    const job = this.jobs.get(jobId);
    if (job?.state === 'completed' || job?.state === 'failed') this.trim(job.state);
    return this.jobs.get(jobId);
  }

  add(job: StoredJob): void {
    this.jobs.set(job.id, job);
    if (job.state !== 'delayed') {
      this.waiting.push(job);
      return;
    }
    const at = this.delayed.findIndex(
      (d) => d.dueAt > job.dueAt || (d.dueAt === job.dueAt && d.seq > job.seq),
    );
    this.delayed.splice(at === -1 ? this.delayed.length : at, 0, job);
  }

  /** When the earliest delayed job falls due. */
  nextDueAt(): number | undefined {
    return this.delayed[0]?.dueAt;
  }

  /** Takes the head of waiting (after moving due delayed jobs to its tail); none when paused. */
  take(now: number): StoredJob | undefined {
    if (this.paused) return undefined;
    while (this.delayed.length > 0 && this.delayed[0].dueAt <= now) {
      const due = this.delayed.shift()!;
      due.state = 'waiting';
      this.waiting.push(due);
    }
    const job = this.waiting.shift();
    if (!job) return undefined;
    job.state = 'active';
    this.active.add(job);
    return job;
  }

  /** Active jobs go back to the head of waiting, in the order given (a takeover, a stop). */
  putBack(jobs: readonly StoredJob[]): void {
    for (const job of jobs) {
      this.active.delete(job);
      job.state = 'waiting';
    }
    this.waiting.unshift(...jobs);
  }

  /** An active job finished: it is kept, or not, as the type's retention says. */
  finish(job: StoredJob, state: Finished, now: number): void {
    this.active.delete(job);
    job.state = state;
    job.finishedOn = now;
    this.finished[state].push(job);
    this.trim(state);
  }

  /** Whether a job can be taken now. */
  get ready(): boolean {
    return !this.paused && (this.waiting.length > 0 || this.due());
  }

  /** Whether a holder keeps the entity: waiting, delayed or active jobs, and not paused. */
  hasWork(): boolean {
    return !this.paused && this.holdsJobs();
  }

  /** Whether it holds jobs that have not finished (paused or not). */
  holdsJobs(): boolean {
    return this.waiting.length > 0 || this.delayed.length > 0 || this.active.size > 0;
  }

  /** Removes waiting jobs, and delayed ones with `delayed`. Active jobs stay. */
  drain(delayed: boolean): void {
    const removed = this.waiting.splice(0);
    if (delayed) removed.push(...this.delayed.splice(0));
    for (const job of removed) this.jobs.delete(job.id);
  }

  backlog(): EntityBacklog {
    this.trim('completed');
    this.trim('failed');
    return {
      waiting: this.waiting.length,
      active: this.active.size,
      delayed: this.delayed.length,
      failed: this.finished.failed.length,
      completed: this.finished.completed.length,
      paused: this.paused,
    };
  }

  /** The failed jobs it keeps, oldest failure first. */
  failedJobs(): readonly StoredJob[] {
    this.trim('failed');
    return this.finished.failed;
  }

  /**
   * Takes failed jobs out of the failed list (the ones of `ids`, or all), oldest failure first;
   * `notFound` are the ids that are not failed jobs here.
   */
  takeFailed(ids: readonly string[] | 'all'): { taken: StoredJob[]; notFound: string[] } {
    const list = this.failedJobs() as StoredJob[];
    const wanted = ids === 'all' ? undefined : new Set(ids);
    const taken = list.filter((job) => !wanted || wanted.has(job.id));
    const found = new Set(taken.map((job) => job.id));
    const notFound = ids === 'all' ? [] : [...new Set(ids)].filter((id) => !found.has(id));
    this.finished.failed = list.filter((job) => !found.has(job.id));
    return { taken, notFound };
  }

  /** Puts failed jobs back at the head of waiting, in the order given, with their attempts anew. */
  retry(jobs: readonly StoredJob[]): void {
    for (const job of jobs) {
      job.state = 'waiting';
      job.attemptsMade = 0;
      job.stalledCount = 0;
      job.deferredFailure = undefined;
      job.processedOn = job.finishedOn = undefined;
      job.error = job.failedReason = undefined;
    }
    this.waiting.unshift(...jobs);
  }

  /** Forgets jobs taken out of the failed list. */
  remove(jobs: readonly StoredJob[]): void {
    for (const job of jobs) this.jobs.delete(job.id);
  }

  /** Takes the head of waiting to fail it without running it (`skipNextJob`). */
  takeNextWaiting(): StoredJob | undefined {
    const job = this.waiting.shift();
    if (job) this.active.add(job);
    return job;
  }

  private due(): boolean {
    return this.delayed.length > 0 && this.delayed[0].dueAt <= this.clock.now();
  }

  /** Drops finished jobs past `removeOnComplete` / `removeOnFail` (oldest first). */
  private trim(state: Finished): void {
    const list = this.finished[state];
    const { count, age } = keepOf(
      state === 'completed' ? this.config.removeOnComplete : this.config.removeOnFail,
    );
    const now = this.clock.now();
    let drop = 0;
    if (age !== undefined)
      while (drop < list.length && (list[drop].finishedOn ?? 0) + age * 1000 <= now) drop += 1;
    if (count !== undefined) drop = Math.max(drop, list.length - count);
    for (const job of list.splice(0, drop)) this.jobs.delete(job.id);
  }
}

/** BullMQ's reading of a retention setting: how many finished jobs to keep, and how long (s). */
function keepOf(keep: boolean | number | KeepJobs): { count?: number; age?: number } {
  if (keep === true) return { count: 0 };
  if (keep === false) return {};
  if (typeof keep === 'number') return { count: keep };
  return { count: keep.count, age: 'age' in keep ? keep.age : undefined };
}
