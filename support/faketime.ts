/**
 * Processes whose wall clock runs off: libfaketime (Debian's `faketime` package, installed by
 * scripts/setup.js) preloaded into a child with a constant offset, as a pod on a host whose clock
 * is wrong. Dev-only (see support/README.md).
 *
 * Only the wall clock is skewed (`FAKETIME_DONT_FAKE_MONOTONIC=1`): on a real host a wrong clock
 * is CLOCK_REALTIME; CLOCK_MONOTONIC, which Node's timers and `performance.now()` run on, counts
 * from boot whatever the date says. (libfaketime fakes the monotonic clock too by default; with
 * a constant offset Node's timers still fire on time, since they only use differences of it.)
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** The env variable through which a skewed process learns its own skew (see {@link trueNow}). */
const SKEW_ENV = 'AQ_TEST_CLOCK_SKEW_MS';

/** Where distributions put the library (Debian/Ubuntu multiarch, Fedora, source builds). */
const KNOWN_PATHS = [
  '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib64/faketime/libfaketime.so.1',
  '/usr/lib/faketime/libfaketime.so.1',
  '/usr/local/lib/faketime/libfaketime.so.1',
];

const INSTALL_HINT =
  'libfaketime not found: install it (`sudo apt-get install -y faketime` on Debian/Ubuntu; ' +
  '`npm test` installs it when run as root), or set LIBFAKETIME to its libfaketime.so.1';

let found: string | undefined;

/** Output of a command, or '' when it is missing or fails. */
function output(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return '';
  }
}

/**
 * Path of libfaketime.so.1: `LIBFAKETIME` if set, else the file of Debian's package (the
 * `faketime` command depends on `libfaketime`, which ships the library), else a known path.
 * Throws with what to install when there is none: a test that needs it fails, never skips.
 */
export function libfaketimePath(): string {
  if (found) return found;
  const fromEnv = process.env.LIBFAKETIME;
  const fromDpkg = output('dpkg', ['-L', 'libfaketime'])
    .split('\n')
    .find((line) => line.endsWith('/libfaketime.so.1'));
  const candidates = [fromEnv, fromDpkg, ...KNOWN_PATHS].filter((p): p is string => !!p);
  found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(INSTALL_HINT);
  return found;
}

/** libfaketime's relative offset: `+30`, `-0.5` (seconds; a dot, whatever the locale). */
function offsetSpec(skewMs: number): string {
  const seconds = (Math.abs(skewMs) / 1000).toFixed(3).replace(/\.?0+$/, '');
  return `${skewMs < 0 ? '-' : '+'}${seconds}`;
}

/**
 * Environment additions that start a child with its wall clock `skewMs` off (Date.now(),
 * `new Date()`, `performance.timeOrigin`); nothing for 0. The child's witness clock
 * ({@link trueNow}) takes the skew back out.
 */
export function skewedClockEnv(skewMs: number): NodeJS.ProcessEnv {
  if (skewMs === 0) return {};
  return {
    LD_PRELOAD: libfaketimePath(),
    FAKETIME: offsetSpec(skewMs),
    FAKETIME_DONT_FAKE_MONOTONIC: '1',
    [SKEW_ENV]: String(skewMs),
  };
}

/** The skew this process was started with ({@link skewedClockEnv}); 0 when none. */
export function ownClockSkewMs(): number {
  return Number(process.env[SKEW_ENV] ?? 0) || 0;
}

const ownSkew = ownClockSkewMs();

/**
 * The witnesses' clock: wall-clock ms (fractional) comparable across the processes of one
 * machine, skewed ones included: the wall clock at this process's start plus a monotonic count
 * since, minus the skew the process was started with. For ledgers and oracles, never for the
 * system under test.
 */
export function trueNow(): number {
  return performance.timeOrigin + performance.now() - ownSkew;
}

/**
 * How far this process's Date.now() is from Redis's clock (TIME): `+30000` when it runs 30 s
 * fast. Redis runs on the same machine, unskewed. Taken at the middle of the shortest of a few
 * round trips (the first one may wait for the connection).
 */
export async function measureClockSkewMs(redis: { time(): Promise<unknown[]> }): Promise<number> {
  let best = { rtt: Infinity, skew: NaN };
  for (let i = 0; i < 5; i++) {
    const before = Date.now();
    const [s, us] = await redis.time();
    const after = Date.now();
    const redisMs = Number(s) * 1000 + Number(us) / 1000;
    if (after - before < best.rtt)
      best = { rtt: after - before, skew: (before + after) / 2 - redisMs };
  }
  return Math.round(best.skew);
}
