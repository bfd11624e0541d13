/**
 * forRootAsync with useFactory (imports + inject), useClass and useExisting builds a working
 * module: the app boots, processes a job, and closes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Injectable, Module } from '@nestjs/common';
import type { Job } from 'bullmq';
import {
  AtomicQueuesModule,
  JobHandler,
  QueueBus,
  WorkerProcessor,
  type AtomicQueuesModuleOptions,
  type AtomicQueuesOptionsFactory,
} from '../../src';
import { redisUrl } from '../helpers/redis';
import { startApp } from './nest-testing';

/** Stands in for a ConfigService. */
@Injectable()
class Settings {
  static prefix = '';
  readonly redisUrl = redisUrl();
  get prefix(): string {
    return Settings.prefix;
  }
}

@Module({ providers: [Settings], exports: [Settings] })
class SettingsModule {}

@Injectable()
class OptionsFromClass implements AtomicQueuesOptionsFactory {
  createAtomicQueuesOptions(): Promise<AtomicQueuesModuleOptions> {
    return Promise.resolve({ redis: redisUrl(), keyPrefix: Settings.prefix });
  }
}

@Module({ providers: [OptionsFromClass], exports: [OptionsFromClass] })
class OptionsModule {}

@WorkerProcessor({ entityType: 'echo' })
class EchoProcessor {
  @JobHandler('echo')
  echo(job: Job, entityId: string) {
    return { entityId, data: job.data as unknown };
  }
}

async function roundTrip(
  name: string,
  atomicModule: (prefix: string) => ReturnType<typeof AtomicQueuesModule.forRootAsync>,
) {
  const t = await startApp(name, {
    providers: [EchoProcessor],
    atomicModule: (prefix) => {
      Settings.prefix = prefix;
      return atomicModule(prefix);
    },
  });
  try {
    const result = await t
      .get(QueueBus)
      .forProcessor(EchoProcessor)
      .enqueueAndWait('echo', 'e-1', { n: 1 }, { timeoutMs: 5000 });
    assert.deepEqual(result, { entityId: 'e-1', data: { n: 1 } });
  } finally {
    await t.close();
  }
}

describe('forRootAsync', () => {
  it('useFactory with imports and inject', () =>
    roundTrip('async-factory', () =>
      AtomicQueuesModule.forRootAsync({
        imports: [SettingsModule],
        inject: [Settings],
        useFactory: (settings: Settings) => ({
          redis: settings.redisUrl,
          keyPrefix: settings.prefix,
        }),
      }),
    ));

  it('useClass', () =>
    roundTrip('async-class', () =>
      AtomicQueuesModule.forRootAsync({ useClass: OptionsFromClass }),
    ));

  it('useExisting', () =>
    roundTrip('async-existing', () =>
      AtomicQueuesModule.forRootAsync({ imports: [OptionsModule], useExisting: OptionsFromClass }),
    ));
});
