/**
 * The runtime services on two pods (two apps on one key prefix): WorkerManagerService shows
 * active entities per pod and cluster-wide, backlogs, and pauses / resumes / drains an entity;
 * SpawnQueueService shows entities waiting for a pod; QueueEventsManagerService relays events.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Job } from 'bullmq';
import {
  JobHandler,
  QueueBus,
  QueueEventsManagerService,
  SpawnQueueService,
  WorkerManagerService,
  WorkerProcessor,
} from '../../src';
import { waitFor } from '../../support/async';
import { gate, nestPrefix, startApp, type TestApp } from './nest-testing';

let hold = gate();
const ran: string[] = [];
let flakyFails = true;

@WorkerProcessor({ entityType: 'acct', idleTimeoutSeconds: 30 })
class AcctProcessor {
  @JobHandler('hold')
  async hold(_job: Job, entityId: string) {
    await hold.promise;
    ran.push(`hold ${entityId}`);
  }

  @JobHandler('flaky')
  flaky(job: Job, entityId: string) {
    if (flakyFails) throw new Error(`flaky ${entityId} failed`);
    ran.push(`flaky ${entityId}`);
  }

  @JobHandler('run')
  run(job: Job, entityId: string) {
    ran.push(`run ${entityId} ${String((job.data as { n?: number }).n)}`);
  }
}

describe('runtime services', () => {
  const prefix = nestPrefix('services');
  let podA: TestApp;
  let podB: TestApp;

  before(async () => {
    podA = await startApp('services-a', { prefix, providers: [AcctProcessor] });
    podB = await startApp('services-b', { prefix, providers: [AcctProcessor] });
  });
  after(async () => {
    hold.open();
    await podA.close();
    await podB.close();
  });

  it('lists active entities per pod and cluster-wide, with the pod holding each', async () => {
    hold = gate();
    await podA.get(QueueBus).forEntity('acct', 'x').enqueue('hold');
    await podB.get(QueueBus).forEntity('acct', 'y').enqueue('hold');
    const managerA = podA.get(WorkerManagerService);
    const managerB = podB.get(WorkerManagerService);
    await waitFor(
      () =>
        managerA.getActiveEntities().some((e) => e.entityId === 'x') &&
        managerB.getActiveEntities().some((e) => e.entityId === 'y'),
      { message: 'each pod runs the entity it enqueued to' },
    );
    const [x] = managerA.getActiveEntities();
    assert.equal(x.entityType, 'acct');
    assert.equal(x.workerName, 'acct-x-worker');
    assert.ok(x.fencingToken >= 1);

    const cluster = await managerA.getClusterEntities();
    const podOf = (id: string) => cluster.find((e) => e.entityId === id)?.pod;
    assert.equal(podOf('x'), managerA.podId);
    assert.equal(podOf('y'), managerB.podId);
    const byPod = await managerB.getWorkersByPod();
    assert.deepEqual(
      byPod[managerA.podId].map((e) => e.entityId),
      ['x'],
    );
    assert.deepEqual(
      byPod[managerB.podId].map((e) => e.entityId),
      ['y'],
    );

    const backlog = await managerB.getBacklog('acct', 'x');
    assert.equal(backlog.active, 1);

    // The operator's listings (what `npx atomic-queues` prints), from either pod.
    const page = await managerB.scanEntities({ type: 'acct' });
    assert.equal(page.cursor, null);
    const scanned = (id: string) => page.items.find((e) => e.entityId === id);
    assert.deepEqual(
      [scanned('x')?.pod, scanned('x')?.state, scanned('x')?.active],
      [managerA.podId, 'held', 1],
    );
    assert.equal(scanned('y')?.pod, managerB.podId);
    const inspected = await managerB.inspectEntity('acct', 'x');
    assert.equal(inspected.lease?.pod, managerA.podId);
    assert.equal(inspected.fencingToken, x.fencingToken);
    const pods = (await managerA.listPods()).map((p) => [p.podId, p.processing]);
    for (const manager of [managerA, managerB])
      assert.ok(
        pods.some(([id, processing]) => id === manager.podId && processing),
        JSON.stringify(pods),
      );
    hold.open();
    // A job counts as completed once its batch's acknowledgement is stored, after its handler.
    await waitFor(
      () =>
        ran.includes('hold x') && ran.includes('hold y') && managerA.getStats().jobsCompleted >= 1,
      { message: 'held jobs finished, and pod A counted its own completed' },
    );
  });

  it('pauses, drains and resumes one entity from any pod', async () => {
    const managerB = podB.get(WorkerManagerService);
    const target = podA.get(QueueBus).forEntity('acct', 'p');
    await managerB.pauseEntity('acct', 'p');
    await target.enqueue('run', { n: 1 });
    await target.enqueue('run', { n: 2 });
    let backlog = await managerB.getBacklog('acct', 'p');
    assert.equal(backlog.paused, true);
    assert.equal(backlog.waiting, 2);
    await managerB.drainEntity('acct', 'p');
    assert.equal((await managerB.getBacklog('acct', 'p')).waiting, 0);
    await target.enqueue('run', { n: 3 });
    // Wait until the pod running `p` has emitted its job's completion (which follows the
    // complete's reply), so that no event of `p` reaches the next test's listeners.
    let pCompleted = false;
    const offs = [podA, podB].map((pod) =>
      pod.get(QueueEventsManagerService).on('job:completed', (e) => {
        if (e.entityId === 'p') pCompleted = true;
      }),
    );
    await managerB.resumeEntity('acct', 'p');
    await waitFor(() => pCompleted, { message: 'the resumed entity completed its job' });
    offs.forEach((off) => off());
    assert.ok(ran.includes('run p 3'), 'the resumed entity ran its job');
    backlog = await managerB.getBacklog('acct', 'p');
    assert.equal(backlog.paused, false);
    assert.equal(backlog.completed, 1);
    assert.ok(!ran.includes('run p 1') && !ran.includes('run p 2'), 'drained jobs never ran');
  });

  it('relays this pod’s events, once and until unsubscribed', async () => {
    // Whichever pod holds the entity runs its jobs and relays their events; the other relays
    // none. Listen on both.
    const completed: string[] = [];
    const first: string[] = [];
    // Every event of the entity, never unsubscribed: a caller may hear its result (published by
    // Redis to the caller's pod) before the running pod emits the event, so the test waits for it.
    const all: string[] = [];
    const offs = [podA, podB].map((pod) => {
      const events = pod.get(QueueEventsManagerService);
      events.on('job:completed', (e) => {
        if (e.entityId === 'ev') all.push(e.jobId);
      });
      events.once('job:completed', (e) => first.push(e.entityId));
      return events.on('job:completed', (e) => completed.push(`${e.entityId}:${e.name}`));
    });
    const relayed = (n: number) => waitFor(() => all.length === n, { message: `${n} events` });
    const bus = podA.get(QueueBus).forEntity('acct', 'ev');
    await bus.enqueueAndWait('run', { n: 1 }, { timeoutMs: 5000 });
    await bus.enqueueAndWait('run', { n: 2 }, { timeoutMs: 5000 });
    await relayed(2);
    for (const off of offs) off();
    await bus.enqueueAndWait('run', { n: 3 }, { timeoutMs: 5000 });
    await relayed(3);
    assert.equal(new Set(all).size, 3, 'each job relayed once, by the pod that ran it');
    assert.deepEqual(completed, ['ev:run', 'ev:run']);
    assert.deepEqual(first, ['ev'], 'once: the first event only, on the pod that ran it');
  });

  it('lists, retries and removes failed jobs, and skips a paused entity’s next job', async () => {
    const managerA = podA.get(WorkerManagerService);
    const managerB = podB.get(WorkerManagerService);
    const target = podA.get(QueueBus).forEntity('acct', 'f');
    flakyFails = true;
    const first = await target.enqueue('flaky');
    const second = await target.enqueue('flaky');
    await waitFor(async () => (await managerB.getBacklog('acct', 'f')).failed === 2, {
      message: 'two failed jobs',
    });
    const page = await managerB.listFailedJobs('acct', 'f');
    assert.deepEqual(
      page.items.map((j) => [j.id, j.failedReason]),
      [
        [first, 'flaky f failed'],
        [second, 'flaky f failed'],
      ],
    );
    const entities = await managerA.listFailedEntities('acct');
    assert.deepEqual(
      entities.items.map((e) => [e.entityId, e.failedJobs]),
      [['f', 2]],
    );
    assert.deepEqual(await managerA.removeFailedJobs('acct', 'f', [second]), {
      removed: [second],
      notFound: [],
      remaining: 1,
    });
    flakyFails = false;
    assert.deepEqual(await managerB.retryFailedJobs('acct', 'f', 'all'), {
      retried: [first],
      notFound: [],
      remaining: 0,
      paused: false,
    });
    await waitFor(() => ran.includes('flaky f'), { message: 'the retried job ran' });
    assert.deepEqual((await managerA.listFailedEntities('acct')).items, []);

    await managerA.pauseEntity('acct', 'f');
    const skipped = await target.enqueue('run', { n: 9 });
    assert.deepEqual(await managerB.skipNextJob('acct', 'f', { resume: true }), {
      skipped,
      resumed: true,
    });
    assert.equal((await managerB.listFailedJobs('acct', 'f')).items[0]?.failedReason, 'skipped');
    await managerB.removeFailedJobs('acct', 'f', 'all');
    assert.ok(!ran.includes('run f 9'));
  });
});

describe('SpawnQueueService', () => {
  it('shows entities waiting for a processing pod, which takes them when it starts', async () => {
    const prefix = nestPrefix('spawn');
    const producer = await startApp('spawn-producer', {
      prefix,
      options: { processing: false, entities: { acct: {} } },
    });
    let worker: TestApp | undefined;
    try {
      await producer.get(QueueBus).forEntity('acct', 'waiting-1').enqueue('run', { n: 7 });
      const spawn = producer.get(SpawnQueueService);
      const [pending] = await spawn.pending();
      assert.equal(pending.entityType, 'acct');
      assert.equal(pending.entityId, 'waiting-1');
      assert.ok(pending.requestedAt <= Date.now());

      worker = await startApp('spawn-worker', { prefix, providers: [AcctProcessor] });
      await waitFor(() => ran.includes('run waiting-1 7'), { message: 'a processing pod took it' });
      assert.deepEqual(await spawn.pending(), []);
      assert.equal(await worker.get(SpawnQueueService).spawn('acct', 'waiting-1'), false);
    } finally {
      await worker?.close();
      await producer.close();
    }
  });
});
