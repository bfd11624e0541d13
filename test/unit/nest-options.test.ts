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

function assertInvalid(err: unknown, message: string): void {
  assert.ok(err instanceof InvalidOptionsError, `expected InvalidOptionsError, got ${String(err)}`);
  assert.equal(err.code, 'INVALID_OPTIONS');
  assert.equal(err.message, message);
}

describe('AtomicQueuesModule options', () => {
  it('forRoot: heartbeatTTL below the minimum', async () => {
    const err = await compileError(
      AtomicQueuesModule.forRoot({ redis: REDIS, workerDefaults: { heartbeatTTL: 0 } }),
    );
    assertInvalid(
      err,
      'Expected `workerDefaults.heartbeatTTL` to be a number of seconds ≥ 0.3, got `0` (number)',
    );
  });

  it('forRoot: no redis connection', async () => {
    const err = await compileError(
      AtomicQueuesModule.forRoot({} as unknown as AtomicQueuesModuleOptions),
    );
    assertInvalid(
      err,
      'Expected `redis` to be connection options, a URL or an ioredis client, got `undefined` (undefined)',
    );
  });

  it('forRoot: an entity option out of range', async () => {
    const err = await compileError(
      AtomicQueuesModule.forRoot({
        redis: REDIS,
        entities: { account: { maxWorkersPerEntity: 0 } },
      }),
    );
    assertInvalid(
      err,
      'Expected `entities.account.maxWorkersPerEntity` to be an integer ≥ 1, got `0` (number)',
    );
  });

  it('forRoot: a key prefix Redis keys cannot carry', async () => {
    const err = await compileError(
      AtomicQueuesModule.forRoot({ redis: REDIS, keyPrefix: 'my app' }),
    );
    assertInvalid(
      err,
      'Expected `keyPrefix` to be a non-empty string of letters, digits, `_` or `.`, got `"my app"` (string)',
    );
  });

  it('forRootAsync useFactory: the factory result is validated the same way', async () => {
    const err = await compileError(
      AtomicQueuesModule.forRootAsync({
        useFactory: () => ({ redis: REDIS, cronInterval: 10 }),
      }),
    );
    assertInvalid(
      err,
      'Expected `cronInterval` to be an integer number of ms ≥ 50, got `10` (number)',
    );
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
    assertInvalid(
      err,
      'Expected `maxPayloadBytes` to be an integer number of bytes ≥ 1, got `-1` (number)',
    );
  });
  it('forRootAsync useClass: the options class result is validated the same way', async () => {
    @Injectable()
    class BadEntities implements AtomicQueuesOptionsFactory {
      createAtomicQueuesOptions(): AtomicQueuesModuleOptions {
        return { redis: REDIS, entities: { account: { idleTimeoutSeconds: -1 } } };
      }
    }
    const err = await compileError(AtomicQueuesModule.forRootAsync({ useClass: BadEntities }));
    assertInvalid(
      err,
      'Expected `entities.account.idleTimeoutSeconds` to be a number ≥ 0, got `-1` (number)',
    );
  });
});
