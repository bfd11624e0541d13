import { Controller, Get, Header, Module } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { register } from 'prom-client';
import { AtomicQueuesHealthIndicator, AtomicQueuesModule } from 'atomic-queues';

@Controller()
export class OperationsController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly queues: AtomicQueuesHealthIndicator,
  ) {}

  @Get('health/ready') // take traffic: started, Redis answers, leases renewed
  @HealthCheck()
  ready() {
    return this.health.check([() => this.queues.isReady('queues')]);
  }

  @Get('health/live') // don't restart: the engine's loops come round
  @HealthCheck()
  live() {
    return this.health.check([() => this.queues.isLive('queues')]);
  }

  @Get('metrics')
  @Header('Content-Type', register.contentType)
  metrics() {
    return register.metrics();
  }
}

@Module({
  imports: [
    AtomicQueuesModule.forRoot({ redis: 'redis://127.0.0.1:6379', metrics: true }),
    TerminusModule,
  ],
  controllers: [OperationsController],
})
export class AppModule {}
