import { parseArgs } from 'node:util';
import { COMMAND_USAGE } from './usage';

/** A mistake in the command line: printed on one line, exit status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The command line, parsed. */
export interface CliArgs {
  command?: string;
  positionals: string[];
  redis: string;
  prefix?: string;
  cluster: boolean;
  timeoutMs: number;
  json: boolean;
  help: boolean;
  type?: string;
  limit?: number;
  cursor?: string;
  all: boolean;
  delayed: boolean;
}

const OPTIONS = {
  redis: { type: 'string' },
  prefix: { type: 'string' },
  cluster: { type: 'boolean' },
  timeout: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  type: { type: 'string' },
  limit: { type: 'string' },
  cursor: { type: 'string' },
  all: { type: 'boolean' },
  delayed: { type: 'boolean' },
} as const;

/** Flags each command takes, beyond the connection ones. */
const COMMAND_FLAGS: Record<string, readonly string[]> = {
  entities: ['type', 'limit', 'cursor'],
  inspect: ['limit'],
  failed: ['limit'],
  retry: ['all'],
  pause: [],
  resume: [],
  drain: ['delayed'],
  pods: [],
};
const CONNECTION_FLAGS = ['redis', 'prefix', 'cluster', 'timeout', 'json', 'help'];

export function parseCli(argv: readonly string[], env: NodeJS.ProcessEnv): CliArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (command !== undefined && !(command in COMMAND_USAGE))
    throw new UsageError(
      `Unknown command "${command}": expected one of ${Object.keys(COMMAND_USAGE).join(', ')}`,
    );
  if (command !== undefined) {
    const allowed = new Set([...CONNECTION_FLAGS, ...COMMAND_FLAGS[command]]);
    for (const [flag, value] of Object.entries(values))
      if (value !== undefined && !allowed.has(flag))
        throw new UsageError(
          `"${command}" takes no --${flag} (see atomic-queues ${command} --help)`,
        );
  }
  return {
    command,
    positionals: rest,
    redis: values.redis ?? env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    prefix: values.prefix,
    cluster: values.cluster ?? false,
    timeoutMs: integer('--timeout', values.timeout, 1, 600_000) ?? 5000,
    json: values.json ?? false,
    help: values.help ?? false,
    type: values.type,
    limit: integer('--limit', values.limit, 1, 1000),
    cursor: values.cursor,
    all: values.all ?? false,
    delayed: values.delayed ?? false,
  };
}

/** The positional arguments of a command, checked against what it takes. */
export function expectPositionals(
  args: CliArgs,
  names: readonly string[],
  optional: readonly string[] = [],
): string[] {
  const { command = '', positionals } = args;
  if (positionals.length < names.length)
    throw new UsageError(
      `"${command}" needs ${names.join(' ')}; missing ${names.slice(positionals.length).join(' ')}`,
    );
  if (positionals.length > names.length + optional.length)
    throw new UsageError(
      `"${command}" takes ${[...names, ...optional.map((o) => `[${o}]`)].join(' ')}; ` +
        `got ${positionals.length} arguments`,
    );
  return positionals;
}

function integer(flag: string, raw: string | undefined, min: number, max: number) {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`Expected ${flag} to be an integer from ${min} to ${max}, got "${raw}"`);
  return n;
}
