import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
// In an application: `from 'atomic-queues'`.
import { AtomicQueuesHealthIndicator } from '../../src';

/**
 * Health endpoints for the orchestrator, with `@nestjs/terminus`: `/health/ready` (Redis answers,
 * leases renewed: take traffic), `/health/live` (the engine's loops come round: don't restart),
 * `/health` (both). 200 when up, 503 with the reasons when not.
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly queues: AtomicQueuesHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.queues.isHealthy('queues')]);
  }

  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([() => this.queues.isReady('queues')]);
  }

  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([() => this.queues.isLive('queues')]);
  }
}
