/**
 * An option key the library does not know is refused at every level it owns (top level,
 * `workerDefaults`, `entities.<type>`, `workerConfig`, `backoff`, `@WorkerProcessor`, enqueue
 * options), naming where it is and the closest known key. The 1.x keys the README lists are
 * still accepted; what is inside `redis` is ioredis's business.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AtomicEngine,
  InvalidOptionsError,
  WorkerProcessor,
  type AtomicQueuesOptions,
  type WorkerProcessorOptions,
} from '../../src';
import { closestName } from '../../src/core/options/closest-name';
import { checkJob, type EnqueueCall } from '../../src/core/producing/job-request';

const REDIS = 'redis://127.0.0.1:1'; // never reached: options are checked before connecting

function refusal(fn: () => unknown): InvalidOptionsError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof InvalidOptionsError, String(err));
    assert.equal(err.code, 'INVALID_OPTIONS');
    return err;
  }
  assert.fail('the unknown option was accepted');
}

const engineWith = (options: Record<string, unknown>) => () =>
  new AtomicEngine({ redis: REDIS, ...options });

describe('unknown option keys', () => {
  it('top level: names the key and the closest known one, case aside', () => {
    const err = refusal(engineWith({ keyprefix: 'app' }));
    assert.equal(err.message, 'Unknown option `keyprefix`; did you mean `keyPrefix`?');
    assert.equal(err.option, 'keyprefix');
    assert.equal(err.received, 'keyprefix');
  });

  it('workerDefaults', () => {
    const err = refusal(engineWith({ workerDefaults: { heartbeatTtl: 3 } }));
    assert.equal(
      err.message,
      'Unknown option `heartbeatTtl` in `workerDefaults`; did you mean `heartbeatTTL`?',
    );
    assert.equal(err.option, 'workerDefaults.heartbeatTtl');
  });

  it('entities.<type>, its workerConfig and its backoff', () => {
    assert.equal(
      refusal(engineWith({ entities: { account: { idleTimeout: 5 } } })).message,
      'Unknown option `idleTimeout` in `entities.account`; did you mean `idleTimeoutSeconds`?',
    );
    assert.equal(
      refusal(engineWith({ entities: { account: { workerConfig: { concurency: 1 } } } })).message,
      'Unknown option `concurency` in `entities.account.workerConfig`; did you mean `concurrency`?',
    );
    assert.equal(
      refusal(engineWith({ entities: { account: { backoff: { type: 'fixed', delayMs: 100 } } } }))
        .message,
      'Unknown option `delayMs` in `entities.account.backoff`; did you mean `delay`?',
    );
  });

  it('lists the known keys when none is close, and never shows the value', () => {
    const err = refusal(engineWith({ workerDefaults: { retries: 'secret-value' } }));
    assert.equal(
      err.message,
      'Unknown option `retries` in `workerDefaults`; the known ones are `concurrency`, ' +
        '`heartbeatTTL`, `lockDuration`, `stalledInterval`',
    );
  });

  it('refuses a key set to undefined too (a typo is a typo)', () => {
    refusal(engineWith({ cronInterval: 1000, cronIntervall: undefined }));
  });

  it('registerEntityType checks the keys of a type declared later', () => {
    const engine = new AtomicEngine({ redis: REDIS });
    const err = refusal(() =>
      engine.registerEntityType('order', { maxWorkers: 1 } as Record<string, unknown>),
    );
    assert.match(
      err.message,
      /^Unknown option `maxWorkers` in `entities\.order`; did you mean `maxWorkersPerEntity`\?$/,
    );
  });

  it('accepts every documented key, the 1.x ones included, and keys set to undefined', () => {
    const engine = new AtomicEngine({
      redis: { host: '127.0.0.1', port: 1, anyIoredisOption: true } as AtomicQueuesOptions['redis'],
      keyPrefix: 'app',
      enableCronManager: true,
      cronInterval: 1000,
      processing: undefined,
      enqueueTimeoutMs: 5000,
      maxPayloadBytes: 1024,
      podId: 'pod-1',
      workerDefaults: {
        concurrency: 1,
        heartbeatTTL: 3,
        stalledInterval: 1000,
        lockDuration: 30000,
      },
      entities: {
        account: {
          queueName: (id) => `acct.${id}`,
          workerName: (id) => `acct.${id}.runner`,
          maxWorkersPerEntity: 2,
          idleTimeoutSeconds: 30,
          defaultEntityId: 'id',
          autoSpawn: true,
          workerConfig: { concurrency: 1, lockDuration: 60000 },
          attempts: 2,
          backoff: { type: 'fixed', delay: 10 },
          onFailure: 'pause',
          maxStalledCount: 1,
          removeOnComplete: { count: 10 },
          removeOnFail: false,
        },
      },
    });
    assert.deepEqual(engine.entityTypes(), ['account']);
  });

  it('@WorkerProcessor: refused as the class is defined, named after the class', () => {
    const err = refusal(() => {
      @WorkerProcessor({ entityType: 'account', idleTimeoutSecond: 5 } as WorkerProcessorOptions)
      class AccountProcessor {}
      return AccountProcessor;
    });
    assert.equal(
      err.message,
      'Unknown option `idleTimeoutSecond` in `@WorkerProcessor(AccountProcessor)`; did you mean `idleTimeoutSeconds`?',
    );
    const nested = refusal(() => {
      @WorkerProcessor({
        entityType: 'account',
        workerConfig: { concurrenty: 1 },
      } as WorkerProcessorOptions)
      class OrderProcessor {}
      return OrderProcessor;
    });
    assert.match(
      nested.message,
      /in `@WorkerProcessor\(OrderProcessor\)\.workerConfig`; did you mean `concurrency`\?/,
    );
  });

  it('enqueue options: timeoutMs only with enqueueAndWait', () => {
    const check = (opts: object, call: EnqueueCall) => () =>
      checkJob(
        () => assert.fail('the entity is checked last'),
        'job',
        {},
        opts,
        () => 'j1',
        1024,
        call,
      );
    assert.equal(
      refusal(check({ delayMs: 5 }, 'enqueue')).message,
      'Unknown option `delayMs` in `enqueue() options`; did you mean `delay`?',
    );
    assert.equal(
      refusal(check({ timeoutMs: 5 }, 'enqueueBulk')).message,
      'Unknown option `timeoutMs` in `enqueueBulk() options`; the known ones are `jobId`, `delay`',
    );
    assert.equal(
      refusal(check({ timeout: 5 }, 'enqueueAndWait')).message,
      'Unknown option `timeout` in `enqueueAndWait() options`; did you mean `timeoutMs`?',
    );
    assert.equal(refusal(check(null as unknown as object, 'enqueue')).option, 'enqueue() options');
  });
});

describe('closestName', () => {
  const known = ['concurrency', 'heartbeatTTL', 'lockDuration', 'stalledInterval'];
  it('finds typos, swapped letters and other cases', () => {
    assert.equal(closestName('concurency', known), 'concurrency');
    assert.equal(closestName('lockDuartion', known), 'lockDuration');
    assert.equal(closestName('HEARTBEATTTL', known), 'heartbeatTTL');
  });
  it('finds a known key the name starts or ends', () => {
    assert.equal(closestName('stalled', known), 'stalledInterval');
    assert.equal(closestName('concurrencyLimit', known), 'concurrency');
  });
  it('suggests nothing when nothing is close', () => {
    assert.equal(closestName('retries', known), undefined);
    assert.equal(closestName('ttl', known), undefined);
  });
});
