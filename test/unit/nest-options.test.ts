/**
 * Options are validated when the application is created: a bad one stops it with a message
 * naming the option, the expected value and the received one. No Redis is touched.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  AtomicQueuesModule,
  InvalidOptionsError,
  type AtomicQueuesModuleOptions,
  type AtomicQueuesOptionsFactory,
} from '../../src';

const REDIS = 'redis://127.0.0.1:1'; // never reached: these apps fail before connecting

async function compileError(
  module: ReturnType<typeof AtomicQueuesModule.forRoot>,
): Promise<unknown> {
  try {
    await Test.createTestingModule({ imports: [module] })
      .setLogger({ log() {}, error() {}, warn() {} })
      .compile();
  } catch (err) {
    return err;
  }
  assert.fail('the application was created despite the bad option');
}

/**
 * The error names the option, what was expected and what was received. `expected` is matched
 * exactly when given; otherwise any wording the engine chooses is accepted.
 */
function assertInvalid(err: unknown, option: string, received: string, expected?: string): void {
  assert.ok(err instanceof InvalidOptionsError, `expected InvalidOptionsError, got ${String(err)}`);
  assert.equal(err.code, 'INVALID_OPTIONS');
  assert.equal(err.option, option);
  const prefix = `Expected \`${option}\` to be `;
  const suffix = `, got ${received}`;
  assert.ok(err.message.startsWith(prefix), err.message);
  assert.ok(err.message.endsWith(suffix), err.message);
  assert.ok(err.message.length > prefix.length + suffix.length, 'the expected value is stated');
  if (expected !== undefined) assert.equal(err.message, `${prefix}${expected}${suffix}`);
}

describe('AtomicQueuesModule options', () => {
  it('forRoot: heartbeatTTL below the minimum', async () => {
    const err = await compileError(
      AtomicQueuesModule.forRoot({ redis: REDIS, workerDefaults: { heartbeatTTL: 0 } }),
    );
    assertInvalid(err, 'workerDefaults.heartbeatTTL', '`0` (number)', 'a number of seconds ≥ 0.3');
  });

  it('forRoot: no redis connection', async () => {
    const err = await compileError(
      AtomicQueuesModule.forRoot({} as unknown as AtomicQueuesModuleOptions),
    );
    assertInvalid(err, 'redis', '`undefined` (undefined)');
  });

  it('forRoot: an entity option out of range', async () => {
    const err = await compileError(
      AtomicQueuesModule.forRoot({
        redis: REDIS,
        entities: { account: { maxWorkersPerEntity: 0 } },
      }),
    );
    assertInvalid(err, 'entities.account.maxWorkersPerEntity', '`0` (number)');
  });

  it('forRoot: a key prefix Redis keys cannot carry', async () => {
    const err = await compileError(
      AtomicQueuesModule.forRoot({ redis: REDIS, keyPrefix: 'my app' }),
    );
    assertInvalid(err, 'keyPrefix', '`"my app"` (string)');
  });

  it("forRoot: an unknown key names the closest known one; isGlobal is the module's", async () => {
    const err = await compileError(
      AtomicQueuesModule.forRoot({
        redis: REDIS,
        isGlobal: false,
        workerDefaults: { concurrency: 1, heartbeatTtl: 3 },
      } as AtomicQueuesModuleOptions),
    );
    assert.ok(err instanceof InvalidOptionsError, String(err));
    assert.equal(
      err.message,
      'Unknown option `heartbeatTtl` in `workerDefaults`; did you mean `heartbeatTTL`?',
    );
    const app = await Test.createTestingModule({
      imports: [AtomicQueuesModule.forRoot({ redis: REDIS, isGlobal: false })],
    })
      .setLogger({ log() {}, error() {}, warn() {} })
      .compile();
    await app.close();
  });

  it('forRootAsync useFactory: the factory result is validated the same way', async () => {
    const err = await compileError(
      AtomicQueuesModule.forRootAsync({
        useFactory: () => ({ redis: REDIS, cronInterval: 10 }),
      }),
    );
    assertInvalid(err, 'cronInterval', '`10` (number)');
  });

  it('forRootAsync useExisting: the options class result is validated the same way', async () => {
    @Injectable()
    class BadOptions implements AtomicQueuesOptionsFactory {
      createAtomicQueuesOptions(): AtomicQueuesModuleOptions {
        return { redis: REDIS, maxPayloadBytes: -1 };
      }
    }
    @Module({ providers: [BadOptions], exports: [BadOptions] })
    class _OptionsModule {}
    const err = await compileError(
      AtomicQueuesModule.forRootAsync({ imports: [_OptionsModule], useExisting: BadOptions }),
    );
    assertInvalid(err, 'maxPayloadBytes', '`-1` (number)');
  });
  it('forRootAsync useClass: the options class result is validated the same way', async () => {
    @Injectable()
    class BadEntities implements AtomicQueuesOptionsFactory {
      createAtomicQueuesOptions(): AtomicQueuesModuleOptions {
        return { redis: REDIS, entities: { account: { idleTimeoutSeconds: -1 } } };
      }
    }
    const err = await compileError(AtomicQueuesModule.forRootAsync({ useClass: BadEntities }));
    assertInvalid(err, 'entities.account.idleTimeoutSeconds', '`-1` (number)');
  });
});
