/**
 * `workerConfig.concurrency` and `maxWorkersPerEntity` above 1 reach the engine from
 * @WorkerProcessor options and from the entities config (processor options win): that many jobs
 * of one entity then run at once, giving up per-entity order.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AtomicEngine, JobHandler, QueueBus, WorkerProcessor } from '../../src';
import { waitFor } from '../../support/async';
import { gate, startApp, type TestApp } from './nest-testing';

const release = gate();
let running = 0;
let peak = 0;

@WorkerProcessor({ entityType: 'fanout', workerConfig: { concurrency: 3 } })
class FanoutProcessor {
  @JobHandler('work')
  async work() {
    running += 1;
    peak = Math.max(peak, running);
    await release.promise;
    running -= 1;
  }
}

describe('concurrency pass-through', () => {
  let t: TestApp;

  before(async () => {
    t = await startApp('concurrency', {
      providers: [FanoutProcessor],
      options: {
        entities: {
          fanout: { maxWorkersPerEntity: 2, workerConfig: { concurrency: 1 } },
          serial: {},
        },
      },
    });
  });
  after(async () => {
    release.open();
    await t.close();
  });

  it('hands the settings to the engine, processor options over config', () => {
    const engine = t.get(AtomicEngine);
    assert.equal(engine.entityType('fanout')?.concurrency, 3);
    assert.equal(engine.entityType('fanout')?.maxWorkersPerEntity, 2);
    assert.equal(engine.entityType('serial')?.concurrency, 1);
    assert.equal(engine.entityType('serial')?.maxWorkersPerEntity, 1);
  });

  it('runs that many jobs of one entity at once', async () => {
    const target = t.get(QueueBus).forEntity('fanout', 'f-1');
    for (let i = 0; i < 4; i += 1) await target.enqueue('work', { i });
    await waitFor(() => running === 3, { message: 'three jobs of f-1 running together' });
    assert.equal(peak, 3);
    release.open();
    await waitFor(() => running === 0, { message: 'all jobs finished' });
    assert.equal(peak, 3, 'never more than the concurrency');
  });
});
