/**
 * A job taken while the application is still bootstrapping reaches its CQRS handler even though
 * CqrsModule binds its handlers later (Nest runs the global AtomicQueuesModule's bootstrap hook
 * before a plain, non-global `CqrsModule`'s): it is not failed with "no handler found".
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Injectable, Module, type OnApplicationBootstrap } from '@nestjs/common';
import { CommandHandler, CqrsModule, type ICommandHandler } from '@nestjs/cqrs';
import { AtomicEngine, QueueEntity, QueueEntityId } from '../../src';
import { redisUrl } from '../helpers/redis';
import { waitFor } from '../../support/async';
import { nestPrefix, startApp } from './nest-testing';

@QueueEntity('early')
class EarlyCommand {
  constructor(
    @QueueEntityId() public readonly earlyId: string,
    public readonly n: number,
  ) {}
}

const handled: number[] = [];

@CommandHandler(EarlyCommand)
class EarlyHandler implements ICommandHandler<EarlyCommand> {
  execute(command: EarlyCommand) {
    handled.push(command.n);
    return Promise.resolve(command.n);
  }
}

/**
 * Its module sits deeper than CqrsModule, so Nest runs this hook after ours and before
 * CqrsModule's: it holds the bootstrap until the waiting job has been processed one way or the other.
 */
@Injectable()
class SlowBoot implements OnApplicationBootstrap {
  readonly outcomes: string[] = [];
  constructor(private readonly engine: AtomicEngine) {
    engine.on('job:completed', () => this.outcomes.push('completed'));
    engine.on('job:failed', (e: { error: unknown }) =>
      this.outcomes.push(`failed: ${String(e.error)}`),
    );
  }
  async onApplicationBootstrap() {
    await waitFor(() => this.outcomes.length > 0, {
      timeoutMs: 10_000,
      message: 'the waiting job was processed during bootstrap',
    });
  }
}

@Module({ providers: [SlowBoot], exports: [SlowBoot] })
class SlowBootModule {}

@Module({ imports: [SlowBootModule] })
class FeatureModule {}

describe('CQRS routing during bootstrap', () => {
  it('a job taken before CqrsModule bound its handlers still reaches its handler', async () => {
    const prefix = nestPrefix('cqrs-bootstrap');
    const producer = new AtomicEngine({
      redis: redisUrl(),
      keyPrefix: prefix,
      processing: false,
      entities: { early: {} },
    });
    await producer.start();
    await producer.enqueue('early', 'e-1', 'EarlyCommand', { earlyId: 'e-1', n: 1 });
    await producer.stop();

    const t = await startApp('cqrs-bootstrap', {
      prefix,
      imports: [CqrsModule, FeatureModule],
      providers: [EarlyHandler],
    });
    try {
      assert.deepEqual(t.get(SlowBoot).outcomes, ['completed']);
      assert.deepEqual(handled, [1]);
    } finally {
      await t.close();
    }
  });
});
