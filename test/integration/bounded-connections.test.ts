/**
 * G6: a pod's Redis connections do not grow with the number of entities. One pod runs a job for
 * each of 10,000 entities (enqueued with bounded parallelism); CLIENT LIST, sampled throughout,
 * never shows more than 10 connections named for the pod (nor more than 10 new connections at
 * all), and every job completes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientCount } from '../helpers/redis';
import { mapLimit, sleep, waitFor } from '../../support/async';
import { integrationSuite } from '../fixtures/integration-suite';

const TYPE = 'account';
const ENTITIES = 10_000;
const MAX_CONNECTIONS = 10;

describe('bounded connections', () => {
  const { prefix, engines, redis } = integrationSuite('boundedConnections');

  it(
    `one pod, ${ENTITIES} entities: at most ${MAX_CONNECTIONS} connections, every job done`,
    { timeout: 240_000 },
    async (t) => {
      const podName = `${prefix}:aq:pod1`;
      const baseline = await clientCount(redis);
      const engine = engines.create({
        podId: 'pod1',
        entities: { [TYPE]: { idleTimeoutSeconds: 2 } },
      });
      engine.registerHandler(TYPE, () => 'ok');
      let completed = 0;
      engine.on('job:completed', () => completed++);
      await engine.start();

      let maxNamed = 0;
      let maxTotal = 0;
      let maxActive = 0;
      let samples = 0;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          maxNamed = Math.max(maxNamed, await clientCount(redis, podName));
          maxTotal = Math.max(maxTotal, await clientCount(redis));
          maxActive = Math.max(maxActive, engine.getStats().activeEntities);
          samples++;
          await sleep(100);
        }
      })();

      try {
        const ids = Array.from({ length: ENTITIES }, (_, i) => `c${i}`);
        await mapLimit(ids, 200, (id) => engine.enqueue(TYPE, id, 'touch', { id }));
        await waitFor(() => completed === ENTITIES, {
          timeoutMs: 180_000,
          intervalMs: 100,
          message: `all ${ENTITIES} jobs completed`,
        });
      } finally {
        sampling = false;
        await sampler;
      }
      t.diagnostic(
        `${samples} samples: max ${maxNamed} connections named ${podName}, ` +
          `max ${maxTotal - baseline} new connections in all, max ${maxActive} entities held at once`,
      );
      assert.ok(maxNamed >= 1, 'the sampler saw the pod (positive control)');
      assert.ok(maxNamed <= MAX_CONNECTIONS, `the pod used ${maxNamed} connections`);
      assert.ok(
        maxTotal - baseline <= MAX_CONNECTIONS,
        `${maxTotal - baseline} new connections in all`,
      );
      assert.ok(maxActive >= 100, `many entities were held at once (${maxActive})`);
      await engine.stop();
      assert.equal(await clientCount(redis, podName), 0, 'all closed after stop');
      assert.equal(engines.errors.length, 0, engines.describeErrors());
    },
  );
});
