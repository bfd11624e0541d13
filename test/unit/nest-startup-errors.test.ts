/**
 * Routing mistakes stop the application at startup (app.init()), with typed errors naming what
 * is wrong, before the engine connects to Redis.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Test } from '@nestjs/testing';
import {
  AtomicQueuesModule,
  CqrsUnavailableError,
  DuplicateJobNameError,
  DuplicateRouteError,
  InvalidOptionsError,
  JobHandler,
  QueueEntity,
  QueueEntityId,
  WorkerProcessor,
} from '../../src';

const REDIS = 'redis://127.0.0.1:1'; // never reached: these apps fail before connecting
const quiet = { log() {}, error() {}, warn() {} };

async function initError(
  providers: (abstract new (...args: never[]) => unknown)[],
): Promise<unknown> {
  const app = await Test.createTestingModule({
    imports: [AtomicQueuesModule.forRoot({ redis: REDIS })],
    providers: providers as never[],
  })
    .setLogger(quiet)
    .compile();
  try {
    await app.init();
  } catch (err) {
    // close() replays the failed initialisation; nothing was started, so there is nothing to stop.
    await app.close().catch(() => undefined);
    return err;
  }
  await app.close();
  assert.fail('app.init() succeeded');
}

@WorkerProcessor({ entityType: 'account' })
class FirstAccountProcessor {
  @JobHandler('a') a(): void {}
}

@WorkerProcessor({ entityType: 'account' })
class SecondAccountProcessor {
  @JobHandler('b') b(): void {}
}

@WorkerProcessor({ entityType: 'order' })
class TwiceHandledProcessor {
  @JobHandler('ship') ship(): void {}
  @JobHandler('ship') shipAgain(): void {}
}

@WorkerProcessor({ entityType: 'order', maxWorkersPerEntity: 0 })
class BadOptionsProcessor {}

@QueueEntity('account')
class CloseAccountCommand {
  constructor(@QueueEntityId() public readonly accountId: string) {}
}

@CommandHandler(CloseAccountCommand)
class CloseAccountHandler implements ICommandHandler<CloseAccountCommand> {
  execute(): Promise<void> {
    return Promise.resolve();
  }
}

describe('startup errors', () => {
  it('two processors for one entity type', { timeout: 10_000 }, async () => {
    const err = await initError([FirstAccountProcessor, SecondAccountProcessor]);
    assert.ok(err instanceof DuplicateRouteError);
    assert.match(
      err.message,
      /^Entity type `account` is handled by more than one handler \(FirstAccountProcessor, SecondAccountProcessor\)/,
    );
  });

  it('two methods for one job name', { timeout: 10_000 }, async () => {
    const err = await initError([TwiceHandledProcessor]);
    assert.ok(err instanceof DuplicateRouteError);
    assert.match(
      err.message,
      /Job `ship` of @WorkerProcessor TwiceHandledProcessor.*\(ship, shipAgain\)/,
    );
  });

  it('invalid @WorkerProcessor options', { timeout: 10_000 }, async () => {
    const err = await initError([BadOptionsProcessor]);
    assert.ok(err instanceof InvalidOptionsError);
    assert.match(
      err.message,
      /^Expected `@WorkerProcessor\(BadOptionsProcessor\)\.maxWorkersPerEntity` to be .+, got `0` \(number\)$/,
    );
  });

  it('a CQRS handler of a queued class without CqrsModule', { timeout: 10_000 }, async () => {
    const err = await initError([CloseAccountHandler]);
    assert.ok(err instanceof CqrsUnavailableError);
    assert.match(
      err.message,
      /^CloseAccountHandler handles a @QueueEntity class, but no CommandBus/,
    );
    assert.match(err.message, /import CqrsModule/);
  });

  // Last: it leaves two classes under one name in this process's registry.
  it('two classes under one class name', { timeout: 10_000 }, async () => {
    const declare = () => {
      @QueueEntity('account')
      class DuplicatedCommand {
        constructor(@QueueEntityId() public readonly accountId: string) {}
      }
      return DuplicatedCommand;
    };
    declare();
    declare();
    const err = await initError([]);
    assert.ok(err instanceof DuplicateJobNameError);
    assert.match(err.message, /`DuplicatedCommand` is registered by more than one class/);
  });
});
