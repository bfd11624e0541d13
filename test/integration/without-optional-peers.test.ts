/**
 * prom-client, @opentelemetry/api and @nestjs/terminus are optional peers: an application
 * without them (simulated in a child process where requiring them fails) runs jobs, answers
 * health checks, and is told clearly when it asks for metrics anyway.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { cleanPrefix, newRedis, redisUrl } from '../helpers/redis';
import { enginePrefix } from '../fixtures/engines';

describe('without the optional peers', () => {
  test('the engine works; `metrics` fails at construction naming prom-client', async () => {
    const prefix = enginePrefix('withoutPeers');
    const script = path.join(__dirname, '..', 'fixtures', 'without-peers.js');
    const { stdout } = await promisify(execFile)(process.execPath, [script, redisUrl(), prefix], {
      timeout: 30_000,
    });
    const redis = newRedis();
    await cleanPrefix(redis, prefix);
    await redis.quit();
    const out = JSON.parse(stdout.trim().split('\n').pop()!);
    assert.deepEqual(out.loadable, [], 'none of the peers can be loaded in the child');
    assert.deepEqual(out.result, { echoed: { n: 1 } });
    assert.equal(out.health, 'up');
    assert.equal(out.indicator, 'up');
    assert.equal(
      out.metricsError,
      'metrics: Expected `metrics` to be left out while prom-client is not installed ' +
        '(`npm install prom-client` to use it), got `{}` (object)',
    );
  });
});
