import type { Clock } from '../clock';

export type HealthStatus = 'up' | 'down';

/** Redis as the pod's command connection sees it. */
export interface RedisHealth {
  status: HealthStatus;
  /** Round trip of a PING, ms (when it answered). */
  latencyMs?: number;
  /** Why it is down: the connection's state, or the PING's error or timeout. */
  error?: string;
}

/** The leases this pod holds: renewed within their TTL? */
export interface LeaseHealth {
  status: HealthStatus;
  /** Entities this pod holds. */
  held: number;
  /** Since the last renewal of every lease was sent, ms; null before the engine started. */
  renewedAgoMs: number | null;
  ttlMs: number;
}

/** One background loop of the pod: did it come round recently? */
export interface LoopHealth {
  status: HealthStatus;
  /** Since it last came round, ms. */
  lastTickAgoMs: number;
  /** Longer than this without coming round (while Redis answers) and the loop counts as stuck. */
  staleAfterMs: number;
}

/**
 * What `engine.health()` answers (README "Operations"). `status` is `up` when the pod is both
 * ready and live:
 * - `ready`: the engine is started, Redis answers a PING within the timeout, and the leases were
 *   renewed within their TTL: the pod can take and run work;
 * - `live`: its loops (heartbeat; dispatcher on a processing pod) came round recently. A loop
 *   that waits on an unreachable Redis is not stuck: then the pod is not ready, but still live
 *   (restarting it would not bring Redis back).
 * `reasons` says, in words, what is down.
 */
export interface EngineHealth {
  status: HealthStatus;
  ready: boolean;
  live: boolean;
  podId: string;
  /** The engine's lifecycle state (see EngineState). */
  state: string;
  reasons: string[];
  redis: RedisHealth;
  leases: LeaseHealth;
  loops: { heartbeat: LoopHealth; dispatcher?: LoopHealth };
}

/** Options of `engine.health()`. */
export interface HealthOptions {
  /** How long the PING may take before Redis counts as unreachable, ms. @defaultValue 1000 */
  timeoutMs?: number;
}

/** When the pod's loops last came round, on the pod's clock (ms). */
export interface LoopTimes {
  /** The heartbeat last ended a beat (renewed or not). */
  heartbeatTickAt: number;
  /** The last renewal of every lease was sent at this time (the leases last until it + TTL). */
  leasesRenewedAt: number;
  /** The dispatcher last came back from its blocking wait; undefined on a producer-only pod. */
  dispatcherTickAt?: number;
}

/** What a health check reads from a started pod. */
export interface PodProbe {
  /** PINGs Redis on the command connection; resolves with the round trip, ms. */
  ping(timeoutMs: number): Promise<number>;
  loopTimes(): LoopTimes;
  held(): number;
}

/** What the health check reads from the engine. */
export interface HealthContext {
  readonly podId: string;
  readonly clock: Clock;
  readonly leaseTtlMs: number;
  /** The engine's state: only `started` can be ready. */
  state(): string;
  /** The started pod, if any. */
  pod(): PodProbe | undefined;
}

export const DEFAULT_HEALTH_TIMEOUT_MS = 1000;
/** A loop that waits at most about a second between rounds counts as stuck after this. */
const MIN_STALE_MS = 5000;

/** Checks a pod (see {@link EngineHealth}). Never throws: a failure is a reason. */
export async function checkHealth(
  ctx: HealthContext,
  { timeoutMs = DEFAULT_HEALTH_TIMEOUT_MS }: HealthOptions = {},
): Promise<EngineHealth> {
  const state = ctx.state();
  const pod = ctx.pod();
  const ttlMs = ctx.leaseTtlMs;
  const reasons: string[] = [];
  if (state !== 'started' || !pod) {
    reasons.push(`engine ${state}`);
    const idle: LoopHealth = { status: 'down', lastTickAgoMs: 0, staleAfterMs: 0 };
    return {
      status: 'down',
      ready: false,
      // Not started (yet, or any more) is not stuck: nothing to restart.
      live: true,
      podId: ctx.podId,
      state,
      reasons,
      redis: { status: 'down', error: `engine ${state}` },
      leases: { status: 'down', held: pod?.held() ?? 0, renewedAgoMs: null, ttlMs },
      loops: { heartbeat: idle },
    };
  }

  const redis = await pingRedis(pod, timeoutMs);
  const redisUp = redis.status === 'up';
  if (!redisUp) reasons.push(`Redis unreachable: ${redis.error}`);
  const now = ctx.clock.now();
  const ago = (at: number): number => Math.max(0, Math.round(now - at));
  const times = pod.loopTimes();
  const renewedAgoMs = ago(times.leasesRenewedAt);
  const leases: LeaseHealth = {
    status: renewedAgoMs < ttlMs ? 'up' : 'down',
    held: pod.held(),
    renewedAgoMs,
    ttlMs,
  };
  if (leases.status === 'down')
    reasons.push(`leases last renewed ${renewedAgoMs} ms ago (TTL ${ttlMs} ms)`);

  const staleAfterMs = Math.max(ttlMs, MIN_STALE_MS);
  const loop = (name: string, tickAt: number): LoopHealth => {
    const lastTickAgoMs = ago(tickAt);
    const stale = lastTickAgoMs > staleAfterMs;
    if (stale)
      reasons.push(
        redisUp
          ? `${name} loop stuck: last round ${lastTickAgoMs} ms ago`
          : `${name} loop waiting for Redis: last round ${lastTickAgoMs} ms ago`,
      );
    return { status: stale ? 'down' : 'up', lastTickAgoMs, staleAfterMs };
  };
  const loops: EngineHealth['loops'] = { heartbeat: loop('heartbeat', times.heartbeatTickAt) };
  if (times.dispatcherTickAt !== undefined)
    loops.dispatcher = loop('dispatcher', times.dispatcherTickAt);

  const ready = redisUp && leases.status === 'up';
  const loopsUp = loops.heartbeat.status === 'up' && loops.dispatcher?.status !== 'down';
  // A loop waiting on an unreachable Redis is not stuck: restarting would not help.
  const live = loopsUp || !redisUp;
  return {
    status: ready && live ? 'up' : 'down',
    ready,
    live,
    podId: ctx.podId,
    state,
    reasons,
    redis,
    leases,
    loops,
  };
}

async function pingRedis(pod: PodProbe, timeoutMs: number): Promise<RedisHealth> {
  try {
    return { status: 'up', latencyMs: await pod.ping(timeoutMs) };
  } catch (err) {
    return { status: 'down', error: err instanceof Error ? err.message : String(err) };
  }
}
