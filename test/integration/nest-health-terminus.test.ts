/**
 * The Nest module's operations surface in an app as Terminus users write it: readiness and
 * liveness endpoints through `HealthCheckService.check([() => indicator.isReady('queues')])`,
 * on a Redis the test stops (ready → 503 with the reason, live stays 200), and `metrics: true`
 * filling prom-client's default registry.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Controller, Get, type INestApplication } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import { register } from 'prom-client';
import { AtomicEngine, AtomicQueuesHealthIndicator, AtomicQueuesModule } from '../../src';
import { startLocalRedis, type LocalRedis } from '../../scripts/local-redis';
import { waitFor } from '../../support/async';

@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly queues: AtomicQueuesHealthIndicator,
  ) {}

  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([() => this.queues.isReady('queues', { timeoutMs: 300 })]);
  }

  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([() => this.queues.isLive('queues', { timeoutMs: 300 })]);
  }

  @Get()
  @HealthCheck()
  all() {
    return this.health.check([() => this.queues.isHealthy('queues', { timeoutMs: 300 })]);
  }
}

async function get(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: await res.json() };
}

describe('Nest: Terminus health and metrics: true', () => {
  let redis: LocalRedis;
  let app: INestApplication;
  let url: string;

  before(async () => {
    redis = await startLocalRedis();
    const moduleRef = await Test.createTestingModule({
      imports: [
        AtomicQueuesModule.forRoot({
          redis: redis.url,
          keyPrefix: 'nesthealth',
          metrics: true,
          workerDefaults: { heartbeatTTL: 1.5 },
        }),
        TerminusModule.forRoot({ logger: false }),
      ],
      controllers: [HealthController],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
  });

  after(async () => {
    await app?.close();
    await redis?.stop();
    register.clear();
  });

  test('ready, live and healthy answer 200 with the engine’s details', async () => {
    for (const path of ['/health/ready', '/health/live', '/health']) {
      const { status, body } = await get(`${url}${path}`);
      assert.equal(status, 200, `${path}: ${JSON.stringify(body)}`);
      assert.equal(body.status, 'ok');
      assert.equal(body.info.queues.status, 'up');
      assert.equal(body.info.queues.redis.status, 'up');
      assert.equal(body.info.queues.state, 'started');
    }
  });

  test('metrics: true registers the engine’s metrics in the default registry', async () => {
    const engine = app.get(AtomicEngine);
    engine.registerHandler('account', () => 'ok');
    await engine.enqueueAndWait('account', 'a1', 'op', {});
    const text = await register.metrics();
    assert.match(text, /^atomic_queues_jobs_completed_total\{type="account"\} 1$/m);
    assert.match(text, /^atomic_queues_entities_held\{type="account"\} 1$/m);
  });

  test('Redis frozen: ready is 503 with the reason, live stays 200', async () => {
    redis.kill('SIGSTOP');
    try {
      const ready = await get(`${url}/health/ready`);
      assert.equal(ready.status, 503, JSON.stringify(ready.body));
      assert.equal(ready.body.status, 'error');
      assert.equal(ready.body.error.queues.status, 'down');
      assert.ok(
        ready.body.error.queues.reasons.includes(
          'Redis unreachable: no answer to PING within 300 ms',
        ),
        JSON.stringify(ready.body),
      );
      const live = await get(`${url}/health/live`);
      assert.equal(live.status, 200, JSON.stringify(live.body));
      assert.equal(live.body.info.queues.status, 'up');
      assert.equal(live.body.info.queues.ready, false);
      assert.equal((await get(`${url}/health`)).status, 503);
    } finally {
      redis.kill('SIGCONT');
    }
    await waitFor(async () => (await get(`${url}/health/ready`)).status === 200, {
      timeoutMs: 15_000,
      message: 'ready again once Redis answers',
    });
  });
});
