import { LeaseLostError, type LeaseLostReason } from '../errors';

/**
 * The closed set of refusal codes of a job's finishing scripts: BullMQ's `ErrorCode` values,
 * which `step-4.lua` returns like BullMQ's `moveToFinished` (whose errors carry them as
 * `code`). Each maps to one {@link LeaseLostReason}; nothing is read from an error message.
 */
export enum ScriptCode {
  JobMissing = -1,
  LockMissing = -2,
  JobNotActive = -3,
  LockMismatch = -6,
}

const REASONS: Readonly<Record<ScriptCode, LeaseLostReason>> = {
  [ScriptCode.JobMissing]: 'job-missing',
  [ScriptCode.LockMissing]: 'lock-missing',
  [ScriptCode.JobNotActive]: 'job-not-active',
  [ScriptCode.LockMismatch]: 'lock-mismatch',
};

/** True when `code` is one of {@link ScriptCode}. */
export function isScriptCode(code: unknown): code is ScriptCode {
  return typeof code === 'number' && code in REASONS;
}

/** The typed error of a refusal code; `operation` says what was refused, for the message. */
export function refusal(code: ScriptCode, operation: string): LeaseLostError {
  return new LeaseLostError(REASONS[code], operation);
}
