import { execFileSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memGB: number;
  node: string;
  redis: string;
}

/** The repository root (bench runs from build/bench/lib, three levels below it). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

/** Cores, CPU model, memory and Node version of this machine; `redisVersion` comes from INFO. */
export function machineInfo(redisVersion: string): MachineInfo {
  return {
    cores: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    memGB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    redis: redisVersion,
  };
}

function git(args: string[]): string | undefined {
  try {
    return execFileSync('git', args, {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return undefined;
  }
}

/**
 * The commit the benchmark ran on, and whether tracked files differed from it. Results written
 * by earlier runs (bench/results, chaos/results) don't count: they are outputs, not code.
 */
export function gitCommit(): { commit: string; dirty: boolean } {
  const commit = git(['rev-parse', 'HEAD']) ?? 'unknown';
  const status = git([
    'status',
    '--porcelain',
    '--untracked-files=no',
    '--',
    '.',
    ':(exclude)bench/results',
    ':(exclude)chaos/results',
  ]);
  return { commit, dirty: status === undefined ? false : status.length > 0 };
}
