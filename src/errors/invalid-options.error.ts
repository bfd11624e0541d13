import { AtomicQueuesError } from './atomic-queues.error';

/** An option has a value the library cannot work with. Thrown at startup, before any Redis call. */
export class InvalidOptionsError extends AtomicQueuesError {
  constructor(
    readonly option: string,
    readonly expected: string,
    readonly received: unknown,
  ) {
    super('INVALID_OPTIONS', `Expected \`${option}\` to be ${expected}, got ${describe(received)}`);
  }
}

function describe(value: unknown): string {
  if (typeof value === 'function') return '`[Function]` (function)';
  let shown: string;
  try {
    shown = typeof value === 'bigint' ? `${value}n` : (JSON.stringify(value) ?? String(value));
  } catch {
    shown = String(value);
  }
  if (shown.length > 80) shown = `${shown.slice(0, 77)}...`;
  return `\`${shown}\` (${value === null ? 'null' : typeof value})`;
}
