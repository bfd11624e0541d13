/** The command line of `npm run bench -- <scenario> [options]`. */
export interface CliArgs {
  scenario?: string;
  json?: string;
  quick: boolean;
  redisUrl?: string;
  timeoutSeconds?: number;
  cpuProfDir?: string;
  help: boolean;
  /** Other `--name value` pairs, for the scenario to validate; a bare `--name` is `'true'`. */
  options: Map<string, string>;
}

export const USAGE = `usage: npm run bench -- <scenario> [options]

  --json FILE        write the result (one JSON object) to FILE; without it, print it after the table
  --quick            small sizes: a smoke run for CI, under about a minute
  --redis-url URL    use this Redis instead of starting one (its other traffic skews the figures)
  --timeout SECONDS  overall budget; the run stops its processes and fails when it is spent
  --cpu-prof DIR     CPU-profile every pod from go to stop, write <pod>.cpuprofile to DIR, print a summary
  --help             this text, and the scenarios with their options`;

export class UsageError extends Error {}

export function parseArgs(argv: string[]): CliArgs {
  const args: CliArgs = { quick: false, help: false, options: new Map() };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${arg} needs a value`);
      i += 1;
      return v;
    };
    if (arg === '--help' || arg === '-h') args.help = true;
    else if (arg === '--quick') args.quick = true;
    else if (arg === '--json') args.json = value();
    else if (arg === '--redis-url') args.redisUrl = value();
    else if (arg === '--cpu-prof') args.cpuProfDir = value();
    else if (arg === '--timeout') {
      const raw = value();
      const n = Number(raw);
      if (!(n > 0))
        throw new UsageError(`--timeout expects a number of seconds > 0, got \`${raw}\``);
      args.timeoutSeconds = n;
    } else if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const next = argv[i + 1];
      if (eq > 0) args.options.set(arg.slice(2, eq), arg.slice(eq + 1));
      else if (next === undefined || next.startsWith('--')) args.options.set(arg.slice(2), 'true');
      else args.options.set(arg.slice(2), value());
    } else if (args.scenario === undefined) args.scenario = arg;
    else throw new UsageError(`Unexpected argument \`${arg}\``);
  }
  return args;
}
