import { isCluster, type RedisClient } from '../../redis/connections';
import { step, type EntityStep, type StepResult } from '../../redis/scripts/step';

/** A step waiting for the turn's call. */
interface Pending {
  step: EntityStep;
  resolve(result: StepResult | Error): void;
  reject(error: unknown): void;
  /** What the step costs Redis at most, for bounding a call (see {@link stepWeight}). */
  weight: number;
}

/**
 * At most this much work in one call, in jobs finished (~13 µs of Redis time each here): one call
 * holds Redis for about a millisecond at most.
 */
const MAX_WEIGHT_PER_CALL = 64;

/**
 * A step's work at most, in jobs finished: each job it finishes, and half of each job it may take.
 * Taking a job costs Redis about half of finishing one (4 commands in step-4.lua against 7: the
 * lock, the active list, the hash, the event, and the eviction of an older job). `take` is an
 * upper bound (the queue may hold fewer); counted whole, a runner's take of `batchSize` 64 filled a
 * call alone, and the steps of many entities no longer shared one.
 */
function stepWeight(step: EntityStep): number {
  return Math.max(1, step.finished.length + Math.ceil(step.take / 2));
}

export interface StepBatcherContext {
  readonly redis: RedisClient;
  readonly podId: string;
  readonly leaseTtlMs: number;
  readonly replyChannelPrefix: string;
}

/**
 * Gathers the steps of this pod's runners (jobs finished, jobs to take) made in one turn of the
 * event loop and sends them in one `step-4.lua` call per hash slot, bounded so that one call does
 * not hold Redis for more than about a millisecond. Under load a pod's runners finish their jobs
 * in the same turns (they wake on the same Redis replies), so Redis sees one call for many
 * entities instead of one per job, and the pod one socket write.
 */
export class StepBatcher {
  private pending: Pending[] = [];

  constructor(private readonly ctx: StepBatcherContext) {}

  /** Sends `step` with the turn's others; resolves with its result (an Error when refused). */
  submit(step: EntityStep): Promise<StepResult | Error> {
    return new Promise((resolve, reject) => {
      if (this.pending.length === 0) process.nextTick(() => this.flush());
      this.pending.push({
        step,
        resolve,
        reject,
        weight: stepWeight(step),
      });
    });
  }

  private flush(): void {
    const all = this.pending;
    this.pending = [];
    const groups = isCluster(this.ctx.redis) ? groupBySlot(all) : [all];
    for (const group of groups) {
      let call: Pending[] = [];
      let weight = 0;
      for (const p of group) {
        if (call.length > 0 && weight + p.weight > MAX_WEIGHT_PER_CALL) {
          void this.send(call);
          call = [];
          weight = 0;
        }
        call.push(p);
        weight += p.weight;
      }
      if (call.length > 0) void this.send(call);
    }
  }

  private async send(call: Pending[]): Promise<void> {
    try {
      const results = await step(
        this.ctx.redis,
        {
          podId: this.ctx.podId,
          leaseTtlMs: this.ctx.leaseTtlMs,
          replyChannelPrefix: this.ctx.replyChannelPrefix,
        },
        call.map((p) => p.step),
      );
      call.forEach((p, i) => p.resolve(results[i]));
    } catch (err) {
      for (const p of call) p.reject(err);
    }
  }
}

/** On Cluster a script may only touch one slot: one call per entity queue (its hash tag). */
function groupBySlot(pending: Pending[]): Pending[][] {
  const groups = new Map<string, Pending[]>();
  for (const p of pending) {
    const key = p.step.keys.queueName;
    const group = groups.get(key) ?? [];
    group.push(p);
    groups.set(key, group);
  }
  return [...groups.values()];
}
