import { Controller, Get, Header } from '@nestjs/common';
import { register } from 'prom-client';

/**
 * `GET /metrics` for Prometheus: prom-client's default registry, where
 * `AtomicQueuesModule.forRoot({ metrics: true })` keeps the `atomic_queues_*` metrics.
 */
@Controller('metrics')
export class MetricsController {
  @Get()
  @Header('Content-Type', register.contentType)
  metrics(): Promise<string> {
    return register.metrics();
  }
}
