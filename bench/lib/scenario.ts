import type { PodRunner } from './pod-runner';
import type { RedisProbe } from './redis-probe';
import type { Deadline } from './timing';
import type { TableRow } from './report';

/** What the CLI hands a scenario. */
export interface BenchContext {
  /** Smaller sizes for a CI smoke run (under about a minute). */
  readonly quick: boolean;
  /** The Redis of this run: one the CLI started, or `--redis-url`. */
  readonly redisUrl: string;
  /** True when the CLI started this Redis (the scenario may assume nobody else uses it). */
  readonly ownRedis: boolean;
  /** The parent's measuring connection. */
  readonly probe: RedisProbe;
  /** Starts pod processes; the CLI stops every one of them at the end or on error. */
  readonly pods: PodRunner;
  /** The run's time budget; set `deadline.phase` so a timeout names where it happened. */
  readonly deadline: Deadline;
  /** Scenario options from the command line (`--name value`), not yet validated. */
  readonly options: ReadonlyMap<string, string>;
  /** Progress lines, on stderr (stdout carries the table and JSON). */
  log(message: string): void;
}

/** What a scenario returns: flat JSON fields and the rows of the printed table. */
export interface ScenarioResult {
  /** Scenario-specific top-level fields (numbers, booleans, small objects). */
  fields: Record<string, unknown>;
  /** Every parameter the scenario used, merged into the JSON `params`. */
  params: Record<string, unknown>;
  table: TableRow[];
  /** Lines printed after the table (profiles, notes). */
  notes?: string[];
  /**
   * What did not finish (each a line): the JSON is still written, with the figures of the rest,
   * and the run exits 1.
   */
  failures?: string[];
}

export interface Scenario {
  readonly name: string;
  /** One line for `--help`. */
  readonly description: string;
  /** Scenario options this scenario accepts, for `--help` and validation: name → help. */
  readonly options?: Readonly<Record<string, string>>;
  /** Default overall budget, seconds. */
  readonly budgetSeconds: { full: number; quick: number };
  run(ctx: BenchContext): Promise<ScenarioResult>;
}

/** Scenario option `--name` as an integer ≥ 1, or `fallback` when it was not given. */
export function positiveIntOption(ctx: BenchContext, name: string, fallback: number): number {
  const raw = ctx.options.get(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`Expected \`--${name}\` to be an integer ≥ 1, got \`${raw}\``);
  return n;
}
