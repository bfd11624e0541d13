import { InvalidOptionsError } from '../../errors';

/** Throws InvalidOptionsError (option, what was expected, what was given) unless `ok`. */
export function check(ok: boolean, option: string, expected: string, received: unknown): void {
  if (!ok) throw new InvalidOptionsError(option, expected, received);
}

/** An integer ≥ `min`. */
export const isInt = (v: unknown, min: number): boolean =>
  typeof v === 'number' && Number.isInteger(v) && v >= min;
/** A finite number ≥ `min`. */
export const isNum = (v: unknown, min: number): boolean =>
  typeof v === 'number' && Number.isFinite(v) && v >= min;
/** Absent, or a function. */
export const isOptFn = (v: unknown): boolean => v === undefined || typeof v === 'function';
