import { AtomicQueuesError } from './atomic-queues.error';

/** An option has a value the library cannot work with. Thrown at startup, before any Redis call. */
export class InvalidOptionsError extends AtomicQueuesError {
  constructor(
    readonly option: string,
    readonly expected: string,
    readonly received: unknown,
    message = `Expected \`${option}\` to be ${expected}, got ${describe(received)}`,
  ) {
    super('INVALID_OPTIONS', message);
  }

  /**
   * An option key the library does not know (a typo, an option of another library): `option` is
   * its path, `received` the key itself; its value is never shown. The message names the closest
   * known key, or lists them: "Unknown option `heartbeatTtl` in `workerDefaults`; did you mean
   * `heartbeatTTL`?".
   */
  static unknownKey(
    at: string | undefined,
    key: string,
    known: readonly string[],
    suggestion?: string,
  ): InvalidOptionsError {
    const where = at === undefined ? '' : ` in \`${at}\``;
    const hint =
      suggestion !== undefined
        ? `did you mean \`${suggestion}\`?`
        : `the known ones are ${known.map((k) => `\`${k}\``).join(', ')}`;
    return new InvalidOptionsError(
      at === undefined ? key : `${at}.${key}`,
      'a known option',
      key,
      `Unknown option \`${key}\`${where}; ${hint}`,
    );
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
