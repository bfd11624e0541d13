/**
 * Traces of jobs, checked with the OpenTelemetry SDK's in-memory exporter: a producer span
 * `send {type}` at enqueue, a consumer span `process {type}` around the handler, its child, the
 * context carried in the job (`aqt`) — in one process, and across two (a worker pod process
 * with its own SDK). Before any tracer provider is registered, no span and no `aqt`.
 */
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { AtomicEngine } from '../../src';
import { waitFor } from '../../support/async';
import { integrationSuite } from '../fixtures/integration-suite';
import { queueKey } from '../fixtures/queue-state';
import type { TracedPodConfig, TracedPodMessage } from '../fixtures/traced-pod';
import { installTracing, type SpanRecord, type TestTracing } from '../fixtures/tracing';
import { redisUrl } from '../helpers/redis';

const TYPE = 'account';
const REMOTE_TYPE = 'ledger';

const only = (spans: SpanRecord[], name: string): SpanRecord[] =>
  spans.filter((s) => s.name === name);
function one(spans: SpanRecord[], name: string, jobId?: string): SpanRecord {
  const found = only(spans, name).filter(
    (s) => jobId === undefined || s.attributes['messaging.message.id'] === jobId,
  );
  assert.equal(
    found.length,
    1,
    `one ${name} span${jobId ? ` of ${jobId}` : ''}: ${JSON.stringify(spans)}`,
  );
  return found[0];
}

describe('job traces', () => {
  const pods: ChildProcess[] = [];
  const { prefix, engines, redis } = integrationSuite('jobTraces', () => {
    for (const pod of pods) if (pod.exitCode === null) pod.kill('SIGKILL');
    return Promise.resolve();
  });
  let producer: AtomicEngine;
  let worker: AtomicEngine;
  let tracing: TestTracing | undefined;
  const aqt = (entity: string, jobId: string) =>
    redis.hget(queueKey(prefix, TYPE, entity, jobId), 'aqt');

  before(async () => {
    producer = engines.create({
      podId: 'producer',
      processing: false,
      entities: { [TYPE]: {}, [REMOTE_TYPE]: {} },
    });
    worker = engines.create({
      podId: 'worker',
      entities: { [TYPE]: { attempts: 2 } },
    });
    worker.registerHandler(TYPE, (job) =>
      trace.getTracer('test').startActiveSpan('handler work', (span) => {
        span.end();
        if (job.name === 'fail') throw new Error('refused by the handler');
        return 'done';
      }),
    );
    await Promise.all([producer.start(), worker.start()]);
  });

  after(async () => {
    await tracing?.uninstall();
  });

  test('no tracer provider: no span, nothing carried in the job', async () => {
    const jobId = await producer.enqueue(TYPE, 'quiet', 'op', { n: 1 });
    await producer.waitForJob(TYPE, 'quiet', jobId, { timeoutMs: 10_000 });
    assert.equal(await aqt('quiet', jobId), null);
  });

  test('the handler runs in a consumer span, child of the enqueue’s producer span', async () => {
    tracing = installTracing();
    const jobId = await trace
      .getTracer('test')
      .startActiveSpan('POST /accounts/a1/deposit', async (request) => {
        try {
          return await producer.enqueue(TYPE, 'a1', 'deposit', { amount: 5 });
        } finally {
          request.end();
        }
      });
    await producer.waitForJob(TYPE, 'a1', jobId, { timeoutMs: 10_000 });
    await waitFor(() => only(tracing!.spans(), 'handler work').length === 1, {
      message: 'the handler span ended',
    });
    const spans = tracing.spans();
    const request = one(spans, 'POST /accounts/a1/deposit');
    const send = one(spans, `send ${TYPE}`, jobId);
    const processed = one(spans, `process ${TYPE}`, jobId);
    const work = one(spans, 'handler work');

    assert.equal(send.kind, SpanKind.PRODUCER);
    assert.equal(send.parentSpanId, request.spanId, 'send is a child of the caller’s span');
    assert.deepEqual(send.attributes, {
      'messaging.system': 'atomic_queues',
      'messaging.operation.name': 'send',
      'messaging.operation.type': 'send',
      'messaging.destination.template': TYPE,
      'messaging.message.id': jobId,
      'atomic_queues.entity.id': 'a1',
    });
    assert.equal(processed.kind, SpanKind.CONSUMER);
    assert.equal(processed.traceId, send.traceId);
    assert.equal(processed.parentSpanId, send.spanId, 'process is a child of send');
    assert.equal(processed.attributes['messaging.operation.name'], 'process');
    assert.equal(processed.attributes['messaging.destination.template'], TYPE);
    assert.equal(processed.attributes['atomic_queues.entity.id'], 'a1');
    assert.equal(processed.attributes['atomic_queues.job.attempt'], 1);
    assert.equal(work.parentSpanId, processed.spanId, 'the handler’s own spans are children');
    assert.equal(await aqt('a1', jobId), `00-${send.traceId}-${send.spanId}-01`);
  });

  test('a delayed job carries its context too', async () => {
    tracing!.exporter.reset();
    const jobId = await producer.enqueue(TYPE, 'later', 'op', {}, { delay: 50 });
    await producer.waitForJob(TYPE, 'later', jobId, { timeoutMs: 10_000 });
    await waitFor(() => only(tracing!.spans(), `process ${TYPE}`).length === 1, {
      message: 'the delayed job’s process span',
    });
    const send = one(tracing!.spans(), `send ${TYPE}`, jobId);
    assert.equal(one(tracing!.spans(), `process ${TYPE}`, jobId).parentSpanId, send.spanId);
  });

  test('a bulk enqueue is one send span; each job’s run is its child', async () => {
    tracing!.exporter.reset();
    const ids = await producer.enqueueBulk(
      ['b1', 'b2', 'b3'].map((entityId) => ({ type: TYPE, entityId, name: 'op', data: {} })),
    );
    await Promise.all(
      ids.map((id, i) => producer.waitForJob(TYPE, `b${i + 1}`, id, { timeoutMs: 10_000 })),
    );
    await waitFor(() => only(tracing!.spans(), `process ${TYPE}`).length === 3, {
      message: 'three process spans',
    });
    const send = one(tracing!.spans(), `send ${TYPE}`);
    assert.equal(send.attributes['messaging.batch.message_count'], 3);
    for (const id of ids)
      assert.equal(one(tracing!.spans(), `process ${TYPE}`, id).parentSpanId, send.spanId);
  });

  test('a failing handler: one process span per attempt, with the error', async () => {
    tracing!.exporter.reset();
    await assert.rejects(
      producer.enqueueAndWait(TYPE, 'bad', 'fail', {}, { timeoutMs: 10_000 }),
      /refused by the handler/,
    );
    await waitFor(() => only(tracing!.spans(), `process ${TYPE}`).length === 2, {
      message: 'two process spans',
    });
    const send = one(tracing!.spans(), `send ${TYPE}`);
    const attempts = only(tracing!.spans(), `process ${TYPE}`);
    assert.deepEqual(attempts.map((s) => s.attributes['atomic_queues.job.attempt']).sort(), [1, 2]);
    for (const s of attempts) {
      assert.equal(s.parentSpanId, send.spanId);
      assert.equal(s.status.code, SpanStatusCode.ERROR);
      assert.equal(s.status.message, 'refused by the handler');
      assert.deepEqual(s.events, ['exception']);
    }
  });

  test('across processes: the pod’s consumer span is a child of this process’s producer span', async () => {
    tracing!.exporter.reset();
    const config: TracedPodConfig = {
      redisUrl: redisUrl(),
      prefix,
      podId: 'traced-pod',
      entityType: REMOTE_TYPE,
    };
    const pod = fork(
      path.join(__dirname, '..', 'fixtures', 'traced-pod.js'),
      [JSON.stringify(config)],
      {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      },
    );
    pods.push(pod);
    const messages: TracedPodMessage[] = [];
    pod.on('message', (m: TracedPodMessage) => messages.push(m));
    await waitFor(() => messages.some((m) => m.type === 'ready'), {
      timeoutMs: 20_000,
      message: 'the traced pod to start',
    });

    const result = await producer.enqueueAndWait(
      REMOTE_TYPE,
      'r1',
      'op',
      {},
      { timeoutMs: 10_000 },
    );
    assert.deepEqual(result, { ran: (result as { ran: string }).ran });
    await assert.rejects(
      producer.enqueueAndWait(REMOTE_TYPE, 'r2', 'fail', {}, { timeoutMs: 10_000 }),
      /refused by the handler/,
    );

    const podSpans = async (): Promise<SpanRecord[]> => {
      messages.length = 0;
      pod.send({ type: 'spans' });
      await waitFor(() => messages.some((m) => m.type === 'spans'), { message: 'the pod’s spans' });
      return (messages.find((m) => m.type === 'spans') as { spans: SpanRecord[] }).spans;
    };
    let remote: SpanRecord[] = [];
    await waitFor(
      async () => {
        remote = await podSpans();
        return only(remote, `process ${REMOTE_TYPE}`).length === 2;
      },
      { timeoutMs: 10_000, message: 'two process spans in the pod' },
    );
    const local = tracing!.spans();
    for (const [entity, code] of [
      ['r1', SpanStatusCode.UNSET],
      ['r2', SpanStatusCode.ERROR],
    ] as const) {
      const send = local.find(
        (s) =>
          s.name === `send ${REMOTE_TYPE}` && s.attributes['atomic_queues.entity.id'] === entity,
      )!;
      assert.ok(send, `the producer span of ${entity}`);
      const processed = remote.find(
        (s) =>
          s.name === `process ${REMOTE_TYPE}` && s.attributes['atomic_queues.entity.id'] === entity,
      )!;
      assert.ok(processed, `the consumer span of ${entity}`);
      assert.equal(processed.traceId, send.traceId, `${entity}: one trace across the processes`);
      assert.equal(processed.parentSpanId, send.spanId, `${entity}: process is a child of send`);
      assert.equal(processed.status.code, code);
      const work = remote.find(
        (s) => s.name === 'handler work' && s.parentSpanId === processed.spanId,
      );
      assert.ok(work, `${entity}: the handler's span is a child of the consumer span`);
    }
    pod.kill('SIGTERM');
    await new Promise((resolve) => pod.once('exit', resolve));
  });
});
