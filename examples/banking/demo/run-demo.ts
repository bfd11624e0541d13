import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { startLocalRedis, type LocalRedis } from '../../../scripts/local-redis';
import { BankStore } from '../store/bank-store';
import { PodFleet } from './pod-fleet';
import { buildReport, type DemoReport } from './report';
import { driveTraffic, planTraffic } from './traffic';

export interface DemoOptions {
  /** Pod processes. @defaultValue 3 */
  pods?: number;
  /** HTTP operations to send. @defaultValue 2000 */
  operations?: number;
  /** Account names. @defaultValue alice, bob, carol, dave, erin */
  accounts?: readonly string[];
  /** Opening balance of every account. @defaultValue 1000 */
  openingBalance?: number;
  /** Largest amount of one operation. @defaultValue 100 */
  maxAmount?: number;
  /** Requests in flight at once. @defaultValue 48 */
  concurrency?: number;
  /** Shares of withdrawals and deposits; the rest are transfers. @defaultValue 0.3 / 0.3 */
  mix?: { withdraw: number; deposit: number };
  /** Traffic PRNG seed. @defaultValue 1 */
  seed?: number;
  /** Simulated store latency between read and write, ms. @defaultValue 2 */
  storeLatencyMs?: number;
  /** Same traffic, handlers called directly without the library. @defaultValue false */
  withoutLibrary?: boolean;
  /** Redis to use; default `REDIS_URL`, else a redis-server started (and stopped) here. */
  redisUrl?: string;
  /**
   * The whole run (start, traffic, settling) gives up after this long, ms; a safety bound for a
   * loaded machine (a run takes 15–30 s on 2 busy cores). @defaultValue 90000
   */
  deadlineMs?: number;
  /** Keep the SQLite store (its path is logged) instead of deleting it. @defaultValue false */
  keepStore?: boolean;
  /** Progress lines (to stderr in the CLI). */
  log?: (line: string) => void;
}

export const DEMO_ACCOUNTS = ['alice', 'bob', 'carol', 'dave', 'erin'] as const;

/**
 * One demo run: a Redis (unless given), an SQLite store seeded with the accounts, N pod
 * processes of the banking app, the traffic, a wait until every debited transfer is credited,
 * and the report. Everything it started is stopped before it returns or throws.
 */
export async function runDemo(opts: DemoOptions = {}): Promise<DemoReport> {
  const o = {
    pods: 3,
    operations: 2000,
    accounts: DEMO_ACCOUNTS,
    openingBalance: 1000,
    maxAmount: 100,
    concurrency: 48,
    seed: 1,
    storeLatencyMs: 2,
    withoutLibrary: false,
    keepStore: false,
    deadlineMs: 90_000,
    log: (): void => undefined,
    ...opts,
  };
  const deadline = Date.now() + o.deadlineMs;
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const keyPrefix = `banking_demo_${runId}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aq-banking-'));
  const storePath = path.join(dir, 'bank.sqlite');
  const removeDir = (): void => fs.rmSync(dir, { recursive: true, force: true });
  if (!o.keepStore) process.on('exit', removeDir); // also when interrupted
  let redis: LocalRedis | undefined;
  let fleet: PodFleet | undefined;
  let store: BankStore | undefined;
  let redisUrl = o.redisUrl ?? process.env.REDIS_URL ?? '';
  try {
    if (!o.withoutLibrary && !redisUrl) {
      redis = await startLocalRedis();
      redisUrl = redis.url;
      o.log(`started redis-server pid ${redis.pid} at ${redis.url}`);
    }
    store = new BankStore(storePath);
    store.seed(Object.fromEntries(o.accounts.map((a) => [a, o.openingBalance])));

    fleet = new PodFleet({
      ...process.env,
      REDIS_URL: redisUrl,
      BANKING_STORE: storePath,
      BANKING_KEY_PREFIX: keyPrefix,
      BANKING_STORE_LATENCY_MS: String(o.storeLatencyMs),
      BANKING_WITHOUT_LIBRARY: o.withoutLibrary ? '1' : '0',
    });
    const f = fleet;
    const booting = Date.now();
    const pods = await Promise.all(
      Array.from({ length: o.pods }, (_, i) => f.start(`pod-${i + 1}`)),
    );
    o.log(
      `pods up in ${seconds(booting)} s: ${pods.map((p) => `${p.name} (pid ${p.pid}) ${p.url}`).join(', ')}`,
    );

    const plan = planTraffic({
      operations: o.operations,
      accounts: o.accounts,
      seed: o.seed,
      maxAmount: o.maxAmount,
      runId,
      mix: o.mix,
    });
    o.log(`sending ${plan.length} operations, ${o.concurrency} at a time`);
    const started = Date.now();
    const results = await driveTraffic(plan, pods, {
      concurrency: o.concurrency,
      deadline,
      requestTimeoutMs: 30_000,
    });
    const trafficSeconds = (Date.now() - started) / 1000;

    // Transfers answered 200 have been debited; their credits may still be queued.
    const s = store;
    while (s.pendingTransfers().length > 0 && Date.now() < deadline) await sleep(50);
    const settledSeconds = (Date.now() - started) / 1000;
    o.log(`traffic done in ${trafficSeconds} s, settled in ${settledSeconds} s`);

    const cpu = [
      ...pods.map((p) => `${p.name} ${cpuSeconds(p.pid)}`),
      ...(redis ? [`redis ${cpuSeconds(redis.pid)}`] : []),
      `driver ${cpuSeconds(process.pid)}`,
    ];
    o.log(`CPU seconds: ${cpu.join(', ')}`);
    const stopping = Date.now();
    await fleet.stopAll();
    o.log(`pods stopped in ${seconds(stopping)} s`);
    return buildReport({
      withoutLibrary: o.withoutLibrary,
      results,
      store: { accounts: s.accounts(), ledger: s.ledger(), transfers: s.transfers() },
      pods,
      trafficSeconds,
      settledSeconds,
    });
  } finally {
    await fleet?.stopAll();
    store?.close();
    if (redis) await redis.stop();
    else if (redisUrl && !o.withoutLibrary) await deletePrefix(redisUrl, keyPrefix);
    if (o.keepStore) o.log(`store kept at ${storePath}`);
    else {
      process.off('exit', removeDir);
      removeDir();
    }
  }
}

/** user + system CPU seconds of a process, from /proc (Linux); '?' elsewhere. */
function cpuSeconds(pid: number): string {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) / 100).toFixed(1);
  } catch {
    return '?';
  }
}

function seconds(since: number): string {
  return ((Date.now() - since) / 1000).toFixed(2);
}

/** Removes the run's keys from a Redis the demo did not start (SCAN, never KEYS). */
async function deletePrefix(url: string, prefix: string): Promise<void> {
  const client = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await client.connect();
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await client.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}
