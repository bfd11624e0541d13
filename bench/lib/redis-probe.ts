import { Redis } from 'ioredis';

/** Name prefix of every connection the bench parent opens, so CLIENT LIST can leave them out. */
export const BENCH_CLIENT_PREFIX = 'bench:';

/** Counters read from one `INFO all`. */
export interface RedisSnapshot {
  /** Epoch ms when the reply arrived. */
  at: number;
  /** `total_commands_processed`: client commands and the commands run inside their scripts. */
  totalCommands: number;
  /** `used_cpu_user + used_cpu_sys`, seconds. */
  cpuSeconds: number;
  /** `used_memory`, bytes. */
  usedMemory: number;
  /** Keys in all databases (`INFO keyspace`). */
  keys: number;
  /** `INFO commandstats`, by command name (`evalsha`, `client|list`, ...). */
  commands: Map<string, { calls: number; usec: number }>;
}

export interface SnapshotDelta {
  seconds: number;
  totalCommands: number;
  cpuSeconds: number;
  byCommand: Record<string, { calls: number; usec: number }>;
}

export interface ClientInfo {
  id: string;
  addr: string;
  name: string;
  cmd: string;
}

/**
 * Commands the probe sends while something is measured (INFO snapshots, CLIENT LIST samples);
 * left out of the per-command breakdowns. Pods never send them, except CLIENT SETNAME on connect.
 */
const PROBE_COMMANDS = /^(info|client\|list)$/;

function parseInfo(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.indexOf(':');
    if (i > 0) out.set(line.slice(0, i), line.slice(i + 1));
  }
  return out;
}

/**
 * The parent's measuring connection: INFO snapshots (commands, CPU), CLIENT LIST, and cleanup by
 * key prefix (SCAN, never KEYS).
 */
export class RedisProbe {
  private constructor(readonly client: Redis) {}

  static async connect(url: string): Promise<RedisProbe> {
    const client = new Redis(url, {
      connectionName: `${BENCH_CLIENT_PREFIX}probe`,
      maxRetriesPerRequest: 3,
      lazyConnect: true,
    });
    await client.connect();
    return new RedisProbe(client);
  }

  async version(): Promise<string> {
    const info = parseInfo(await this.client.info('server'));
    return info.get('redis_version') ?? 'unknown';
  }

  /** One round trip: `INFO all` (stats, cpu and commandstats in one reply). */
  async snapshot(): Promise<RedisSnapshot> {
    const info = parseInfo((await this.client.call('INFO', 'all')) as string);
    const at = Date.now();
    const commands = new Map<string, { calls: number; usec: number }>();
    for (const [key, value] of info) {
      if (!key.startsWith('cmdstat_')) continue;
      const calls = /(?:^|,)calls=(\d+)/.exec(value);
      const usec = /(?:^|,)usec=(\d+)/.exec(value);
      commands.set(key.slice('cmdstat_'.length), {
        calls: Number(calls?.[1] ?? 0),
        usec: Number(usec?.[1] ?? 0),
      });
    }
    return {
      at,
      totalCommands: Number(info.get('total_commands_processed') ?? 0),
      cpuSeconds: Number(info.get('used_cpu_user') ?? 0) + Number(info.get('used_cpu_sys') ?? 0),
      usedMemory: Number(info.get('used_memory') ?? 0),
      keys: [...info]
        .filter(([k]) => /^db\d+$/.test(k))
        .reduce((sum, [, v]) => sum + Number(/keys=(\d+)/.exec(v)?.[1] ?? 0), 0),
      commands,
    };
  }

  /** Clients connected now, this probe included (its name starts with `bench:`). */
  async clients(): Promise<ClientInfo[]> {
    const list = (await this.client.call('CLIENT', 'LIST')) as string;
    return list
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => {
        const field = (name: string): string =>
          new RegExp(`(?:^| )${name}=(\\S*)`).exec(line)?.[1] ?? '';
        return { id: field('id'), addr: field('addr'), name: field('name'), cmd: field('cmd') };
      });
  }

  async zcard(key: string): Promise<number> {
    return this.client.zcard(key);
  }

  /** Members of sorted set `key` scored before Redis's clock (ms) plus `withinMs`. */
  async zcountDueWithin(key: string, withinMs: number): Promise<number> {
    const [seconds, micros] = await this.client.time();
    const nowMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    return this.client.zcount(key, '-inf', `(${nowMs + withinMs}`);
  }

  /** Deletes every key under `prefix:`; returns how many. */
  async cleanPrefix(prefix: string): Promise<number> {
    const match = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}:*`;
    let cursor = '0';
    let deleted = 0;
    do {
      const [next, keys] = await this.client.scan(cursor, 'MATCH', match, 'COUNT', 2000);
      cursor = next;
      if (keys.length > 0) deleted += await this.client.unlink(...keys);
    } while (cursor !== '0');
    return deleted;
  }

  async close(): Promise<void> {
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }
}

/** What happened between two snapshots; `byCommand` leaves out the probe's own commands. */
export function diffSnapshots(a: RedisSnapshot, b: RedisSnapshot): SnapshotDelta {
  const byCommand: Record<string, { calls: number; usec: number }> = {};
  for (const [name, after] of b.commands) {
    if (PROBE_COMMANDS.test(name)) continue;
    const before = a.commands.get(name) ?? { calls: 0, usec: 0 };
    const calls = after.calls - before.calls;
    if (calls > 0) byCommand[name] = { calls, usec: after.usec - before.usec };
  }
  return {
    seconds: (b.at - a.at) / 1000,
    totalCommands: b.totalCommands - a.totalCommands,
    cpuSeconds: b.cpuSeconds - a.cpuSeconds,
    byCommand,
  };
}

/** Calls per unit (per job, per second) by command, largest first, rounded. */
export function perUnit(delta: SnapshotDelta, units: number, digits = 2): Record<string, number> {
  const f = 10 ** digits;
  return Object.fromEntries(
    Object.entries(delta.byCommand)
      .sort((x, y) => y[1].calls - x[1].calls)
      .map(([name, { calls }]) => [name, Math.round((calls / units) * f) / f])
      .filter(([, v]) => (v as number) > 0),
  );
}

/**
 * Redis time per unit (µs) by command, largest first. A script's own entry (`evalsha`) includes
 * the time of the commands it ran, which also have entries of their own.
 */
export function usecPerUnit(
  delta: SnapshotDelta,
  units: number,
  digits = 1,
): Record<string, number> {
  const f = 10 ** digits;
  return Object.fromEntries(
    Object.entries(delta.byCommand)
      .sort((x, y) => y[1].usec - x[1].usec)
      .map(([name, { usec }]) => [name, Math.round((usec / units) * f) / f])
      .filter(([, v]) => (v as number) > 0),
  );
}

/** Commands per unit with the probe's own commands left out. */
export function commandsPerUnit(delta: SnapshotDelta, units: number): number {
  let calls = 0;
  for (const { calls: c } of Object.values(delta.byCommand)) calls += c;
  return calls / units;
}
