import { Injectable } from '@nestjs/common';
import { AtomicEngine, type EngineHealth, type HealthOptions } from '../../core';
import { downResult } from './terminus-compat';

/** One key of a Terminus health check: this pod's queues, and the engine's health details. */
export type AtomicQueuesHealthResult<Key extends string = string> = Record<
  Key,
  Omit<EngineHealth, 'status'> & { status: 'up' | 'down' }
>;

/**
 * The engine's health as a `@nestjs/terminus` indicator (Terminus is an optional peer):
 *
 * ```ts
 * @Get('health/live') @HealthCheck()
 * live() { return this.health.check([() => this.queues.isLive('queues')]); }
 * @Get('health/ready') @HealthCheck()
 * ready() { return this.health.check([() => this.queues.isReady('queues')]); }
 * ```
 * - `isReady`: the engine is started, Redis answers, the leases were renewed within their TTL;
 * - `isLive`: the engine's loops come round (a loop waiting on an unreachable Redis is not stuck:
 *   restarting the pod would not bring Redis back);
 * - `isHealthy`: both.
 * Each result carries the whole EngineHealth (reasons, Redis latency, leases, loops). A `down` is
 * returned (Terminus 11 and later), or thrown as Terminus's HealthCheckError (Terminus 10).
 */
@Injectable()
export class AtomicQueuesHealthIndicator {
  constructor(private readonly engine: AtomicEngine) {}

  /** Up when the pod is ready and live. */
  isHealthy<Key extends string>(
    key: Key,
    options?: HealthOptions,
  ): Promise<AtomicQueuesHealthResult<Key>> {
    return this.check(key, options, (h) => h.status === 'up');
  }

  /** Readiness: started, Redis reachable, leases renewed within their TTL. */
  isReady<Key extends string>(
    key: Key,
    options?: HealthOptions,
  ): Promise<AtomicQueuesHealthResult<Key>> {
    return this.check(key, options, (h) => h.ready);
  }

  /** Liveness: the engine's loops are not stuck. */
  isLive<Key extends string>(
    key: Key,
    options?: HealthOptions,
  ): Promise<AtomicQueuesHealthResult<Key>> {
    return this.check(key, options, (h) => h.live);
  }

  private async check<Key extends string>(
    key: Key,
    options: HealthOptions | undefined,
    up: (health: EngineHealth) => boolean,
  ): Promise<AtomicQueuesHealthResult<Key>> {
    const health = await this.engine.health(options);
    const ok = up(health);
    const result = {
      [key]: { ...health, status: ok ? 'up' : 'down' },
    } as AtomicQueuesHealthResult<Key>;
    if (ok) return result;
    return downResult(result, `${key} is down: ${health.reasons.join('; ') || 'see details'}`);
  }
}
