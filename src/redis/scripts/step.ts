import type { EntityKeys } from '../keys';
import { runScript, type ScriptTarget } from '../script-loader';
import { isScriptCode, refusal } from '../script-codes';
import type { KeepArgs } from './keep';
import type { LeaseGuard } from './lease-guard';

/** The fields `step-4.lua` reads of each job it takes, in its order. */
export const TAKEN_FIELDS = [
  'name',
  'data',
  'opts',
  'timestamp',
  'processedOn',
  'atm',
  'ats',
  'aqw',
  'aqt',
  'defa',
  'stc',
] as const;

/** A job a runner ran, with its outcome to store. */
export interface FinishedOutcome {
  jobId: string;
  status: 'completed' | 'failed';
  /** completed: the return value as BullMQ stores it (JSON); failed: the failed reason. */
  value: string;
  /** Attempts made, this one included. */
  attempts: number;
  /** failed: the error as JSON (the job's `aqe` field). */
  error?: string;
  /** failed: BullMQ's stacktrace field (a JSON array). */
  stacktrace?: string;
  /** The result as the script publishes it to the awaiting pods (all but this one), if given. */
  message?: string;
}

/** One entity's part of a step. */
export interface EntityStep {
  keys: EntityKeys;
  /** The runner's lease slot (0 unless maxWorkersPerEntity > 1). */
  slot: number;
  guard: LeaseGuard;
  keepCompleted: KeepArgs;
  keepFailed: KeepArgs;
  /** Events stream length (BullMQ's maxLenEvents); 0: no events. */
  eventsMaxLen: number;
  finished: readonly FinishedOutcome[];
  /** Jobs taken but not run, in the order they were to run: back to the head of wait. */
  giveBack: readonly string[];
  /** Pause the entity (after a final failure, onFailure: 'pause'). */
  pause: boolean;
  /** Take up to this many next jobs (0: none). */
  take: number;
  /**
   * A job the runner's step before this one finishes, while that step may still be on its way:
   * this one is refused ({@link StepOutOfTurn}) until that job is finished.
   */
  after?: string;
  /**
   * When this step takes nothing, mark the holder idle in it (as `idle-8.lua` does): only for a
   * runner that runs nothing else and has no other step on its way.
   */
  idle?: boolean;
}

/**
 * A step refused because the runner's step before it has not run yet (see `EntityStep.after`):
 * nothing was written; the runner sends it again once that step went through.
 */
export class StepOutOfTurn extends Error {
  constructor(queueName: string) {
    super(`a step of ${queueName} arrived before the one sent before it`);
    this.name = 'StepOutOfTurn';
  }
}

/** The script's code for a step out of turn. */
const OUT_OF_TURN = -7;

/** A job taken by a step: its id and its stored fields (TAKEN_FIELDS). */
export interface TakenJob {
  id: string;
  fields: Partial<Record<(typeof TAKEN_FIELDS)[number], string>>;
}

/** What one entity's step did. */
export interface StepResult {
  /** The pods awaiting each finished job's result, in order. */
  waiters: (readonly string[])[];
  taken: TakenJob[];
  /** BullMQ must fetch the next job (a prioritized job or a legacy marker is next). */
  fetch: boolean;
  /** Set when the step took nothing and marked the holder idle (asked with `idle`). */
  idle?: StepIdle;
}

/** The holder was marked idle by its step: as `idle-8.lua`'s reply. */
export interface StepIdle {
  /** Until the next delayed job is due, by Redis's clock (0: none). */
  dueInMs: number;
  /** The queue keeps failed jobs or is paused: look at it again after a while. */
  watch: boolean;
}

/**
 * Sends the steps of many entities in one call (`step-4.lua`; on Cluster the caller groups them by
 * hash slot). Resolves with each entity's result, or its LeaseLostError when Redis refused it
 * (its lease moved on): one entity's refusal leaves the others' results.
 */
export async function step(
  target: ScriptTarget,
  pod: { podId: string; leaseTtlMs: number; replyChannelPrefix: string },
  entities: readonly EntityStep[],
): Promise<(StepResult | Error)[]> {
  const keys: string[] = [];
  const args: (string | number)[] = [pod.podId, pod.leaseTtlMs, pod.replyChannelPrefix];
  for (const e of entities) {
    keys.push(e.keys.wait);
    args.push(
      e.keys.jobPrefix,
      e.slot,
      e.guard.token,
      e.guard.fence,
      e.keepCompleted[0],
      e.keepCompleted[1],
      e.keepCompleted[2],
      e.keepFailed[0],
      e.keepFailed[1],
      e.keepFailed[2],
      e.eventsMaxLen,
      e.take,
      e.finished.length,
      e.giveBack.length,
      e.pause ? 1 : 0,
      e.after ?? '',
      e.idle === true ? 1 : 0,
    );
    // A completed job in 4 values, a failed one in 6, and one more for a message (step-4.lua).
    for (const f of e.finished) {
      const failed = f.status === 'failed';
      const message = f.message !== undefined && f.message !== '';
      args.push(f.jobId, failed ? (message ? 'F' : 'f') : message ? 'C' : 'c', f.value, f.attempts);
      if (failed) args.push(f.error ?? '', f.stacktrace ?? '');
      if (message) args.push(f.message!);
    }
    for (const id of e.giveBack) args.push(id);
  }
  const raw = (await runScript(target, 'step', keys, args)) as unknown[][];
  return entities.map((e, i) => decode(raw[i], e));
}

/** Shared by every finished job nobody awaits (most of them): read only. */
const NO_WAITERS: readonly string[] = Object.freeze([]);

function decode(reply: unknown[], e: EntityStep): StepResult | Error {
  const code = Number(reply[0]);
  if (code === OUT_OF_TURN) return new StepOutOfTurn(e.keys.queueName);
  if (code < 0) {
    const what = `finish jobs of ${e.keys.queueName}`;
    return isScriptCode(code) ? refusal(code, what) : new Error(`step-4.lua returned ${code}`);
  }
  const waiters: (readonly string[])[] = [];
  let at = 1;
  for (let j = 0; j < e.finished.length; j++, at++) {
    const w = reply[at] as string | null;
    waiters.push(w ? w.split(',') : NO_WAITERS);
  }
  const taken: TakenJob[] = [];
  const n = Number(reply[at++]);
  for (let j = 0; j < n; j++) {
    const id = String(reply[at++]);
    const fields: TakenJob['fields'] = {};
    for (const name of TAKEN_FIELDS) {
      const value = reply[at++];
      if (typeof value === 'string') fields[name] = value;
    }
    taken.push({ id, fields });
  }
  if (at + 2 > reply.length) return { waiters, taken, fetch: code === 1 };
  const idle = { dueInMs: Number(reply[at]), watch: Number(reply[at + 1]) === 1 };
  return { waiters, taken, fetch: code === 1, idle };
}
