import type { Job } from 'bullmq';
import type { EntityHandle } from '../entities/entity';
import type { JobRun } from './job-execution';
import type { Ran, StepTransport, TakenAhead } from './step-transport';

/** What running the jobs taken needs from their runner. */
export interface BatchSeat {
  readonly entity: EntityHandle;
  /** The runner's steps: they acknowledge the jobs run, give back the others, take the next. */
  readonly steps: StepTransport;
  /** Runs one job under the runner's lease, its retries included (see JobExecution). */
  run(job: Job): Promise<JobRun>;
  /** Takes the entity's next jobs, up to `count` (none when the lease is not surely valid). */
  take(count: number): Promise<Job[]>;
  isLost(): boolean;
  /** Running: neither idle, releasing, lost nor closed. */
  isRunning(): boolean;
  /** Asked to stop: the jobs taken and not run go back. */
  stopping(): boolean;
  /**
   * Asked to stop or to hand the entity over: nothing more is taken, and the jobs taken and not
   * run go back once the job under way ends.
   */
  draining(): boolean;
}

/**
 * Runs the jobs a runner took: a batch in order, acknowledged in one step that takes the next
 * (a full batch has the next one taken while it runs); or, with `concurrency` > 1 (no order, no
 * exclusion), in lanes, each taking and acknowledging one job at a time.
 */
export class BatchExecution {
  /** With `concurrency` > 1: the lanes running now, each taking and acknowledging its own jobs. */
  private readonly lanes = new Set<Promise<void>>();

  constructor(private readonly seat: BatchSeat) {}

  /** Runs the jobs taken and acknowledges them; resolves with the next ones taken. */
  run(jobs: Job[]): Promise<Job[]> {
    return this.seat.entity.config.concurrency > 1
      ? this.runLanes(jobs)
      : this.runBatch(jobs, this.seat.entity.config.batchSize);
  }

  /** New work arrived: a lane that found the queue empty has ended, add one back. */
  notify(): void {
    const concurrency = this.seat.entity.config.concurrency;
    if (this.lanes.size > 0 && this.lanes.size < concurrency) this.startLane([]);
  }

  /** Settles once every lane has ended (after an error: each gives its jobs back). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.lanes]);
  }

  /**
   * One lane per job taken, each then taking and acknowledging one job at a time until the queue
   * is empty; new work adds lanes back (see {@link notify}).
   */
  private async runLanes(jobs: Job[]): Promise<Job[]> {
    for (const job of jobs) this.startLane([job]);
    while (this.lanes.size > 0) await Promise.all([...this.lanes]);
    return [];
  }

  private startLane(first: Job[]): void {
    const { seat } = this;
    const lane: Promise<void> = (async () => {
      let jobs = first.length > 0 ? first : await seat.take(1);
      while (jobs.length > 0 && !seat.stopping() && seat.isRunning())
        jobs = await this.runBatch(jobs, 1);
      if (jobs.length > 0) await seat.steps.acknowledge([], jobs, false, 0);
    })().finally(() => this.lanes.delete(lane));
    this.lanes.add(lane);
  }

  /**
   * The jobs taken by the acknowledgement of the last batch, still on its way while the next
   * batch runs (see {@link runBatch}); they run after that batch.
   */
  private inFlight: TakenAhead | undefined;

  /**
   * The jobs taken by a step still on its way, once it is back (none when there is none): the
   * runner gives them back when it stops between batches.
   */
  async collectInFlight(): Promise<Job[]> {
    const inFlight = this.inFlight;
    this.inFlight = undefined;
    return inFlight ? await inFlight : [];
  }

  /**
   * Runs a batch in order and acknowledges it; resolves with the next batch. A full batch has
   * the next one taken while it runs. A final failure with `onFailure: 'pause'` stops the batch
   * there: the entity pauses and the jobs not run go back, first in line.
   *
   * With a backlog and `batchSize` K ≥ 2, batches are of K/2 jobs (at most), and each one's
   * acknowledgement, which takes the batch after next, is on its way while the next batch runs:
   * the runner does not wait a round trip between batches, and a crash leaves at most K jobs run
   * and not acknowledged (the batch being acknowledged and the one running). K = 1 acknowledges
   * each job before the next starts.
   */
  private async runBatch(jobs: Job[], size: number): Promise<Job[]> {
    const { seat } = this;
    const half = size >= 2 ? Math.floor(size / 2) : 0;
    let ahead = this.inFlight;
    this.inFlight = undefined;
    if (!ahead && half > 0 && jobs.length >= half && !seat.draining()) {
      if (jobs.length > half) {
        // More than half a batch in hand: the rest runs next, while this half's step is out.
        ahead = seat.steps.inHand(jobs.slice(half));
        jobs = jobs.slice(0, half);
      } else {
        ahead = seat.steps.takeAhead(half);
        await stepsSent();
      }
    }
    const ran: Ran[] = [];
    let unrun: Job[] = [];
    let pause = false;
    for (let i = 0; i < jobs.length; i++) {
      if (seat.isLost()) break;
      // The connection closed since this job was taken: Redis may have lost the lease (a
      // restart without its data). Check it before starting anything more.
      if (seat.steps.takenBeforeReconnect(jobs[i]))
        return seat.steps.acknowledgeAfterReconnect(ran, jobs.slice(i), ahead);
      // Stopping or handing over: at a job boundary, not at the end of the batch (a batch of
      // long jobs would hold a hand-over for batchSize jobs).
      if (seat.draining()) {
        unrun = jobs.slice(i);
        break;
      }
      const run = await seat.run(jobs[i]);
      if (run.kind === 'lost') break;
      if (run.kind === 'not-run') {
        unrun = jobs.slice(i);
        break;
      }
      ran.push(seat.steps.ran(jobs[i], run));
      if (run.status === 'failed' && seat.entity.config.onFailure === 'pause') {
        pause = true;
        unrun = jobs.slice(i + 1);
        break;
      }
    }
    if (seat.isLost()) return [];
    // Paused, stopping or handing over: no more jobs are taken, the batch taken ahead goes back.
    const takesMore = !pause && !seat.draining();
    if (ahead && takesMore && unrun.length === 0) {
      const { jobs: next, acknowledged } = await seat.steps.acknowledgeAhead(ran, ahead, half);
      this.inFlight = acknowledged;
      if (acknowledged) await stepsSent();
      return next;
    }
    // One lane (concurrency 1) runs nothing else: a step that takes nothing may mark it idle.
    const alone = seat.entity.config.concurrency <= 1;
    return seat.steps.acknowledgeBatch(ran, unrun, pause, ahead, takesMore ? size : 0, alone);
  }
}

/**
 * Resolves once the steps submitted so far have gone out. The StepBatcher sends a turn's steps
 * from a `process.nextTick` callback, and jobs whose handlers don't wait on I/O would otherwise
 * run a whole batch before it: a step sent ahead is to run while the batch does. A tick queued
 * after the batcher's runs after it, without waiting for a turn of the event loop.
 */
function stepsSent(): Promise<void> {
  return new Promise((resolve) => process.nextTick(resolve));
}
