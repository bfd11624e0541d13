import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { AtomicQueuesModuleOptions } from './interfaces/atomic-queues-module-options.interface';

/**
 * `forRoot(options)` and `forRootAsync({ imports, inject, useFactory | useClass | useExisting })`,
 * built by Nest's ConfigurableModuleBuilder. The module is global unless `isGlobal: false`.
 */
export const {
  ConfigurableModuleClass: AtomicQueuesConfigurableModule,
  MODULE_OPTIONS_TOKEN: ATOMIC_QUEUES_OPTIONS,
  OPTIONS_TYPE: ATOMIC_QUEUES_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: ATOMIC_QUEUES_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<AtomicQueuesModuleOptions>({ moduleName: 'AtomicQueues' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createAtomicQueuesOptions')
  .setExtras({ isGlobal: true }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
  }))
  .build();
