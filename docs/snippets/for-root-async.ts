import { Injectable, Module } from '@nestjs/common';
import {
  AtomicQueuesModule,
  type AtomicQueuesModuleOptions,
  type AtomicQueuesOptionsFactory,
} from 'atomic-queues';

@Injectable()
export class AppConfig {
  readonly redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
}

@Module({ providers: [AppConfig], exports: [AppConfig] })
export class ConfigModule {}

@Injectable()
export class QueuesConfig implements AtomicQueuesOptionsFactory {
  constructor(private readonly config: AppConfig) {}

  createAtomicQueuesOptions(): AtomicQueuesModuleOptions {
    return { redis: this.config.redisUrl, keyPrefix: 'myapp' };
  }
}

@Module({
  imports: [
    // With a factory:
    AtomicQueuesModule.forRootAsync({
      imports: [ConfigModule],
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        redis: config.redisUrl,
        workerDefaults: { heartbeatTTL: 3 },
      }),
    }),
  ],
})
export class AppModuleWithFactory {}

@Module({
  // ... or with a class (useExisting takes a provider you already have):
  imports: [AtomicQueuesModule.forRootAsync({ imports: [ConfigModule], useClass: QueuesConfig })],
})
export class AppModuleWithClass {}
