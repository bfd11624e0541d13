/**
 * A handler can read its job's context, fencing token included: CQRS handlers (and anything they
 * call) through currentJobContext(), @JobHandler methods also as their third argument.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Job } from 'bullmq';
import { Injectable } from '@nestjs/common';
import { Command, CommandHandler, CqrsModule, type ICommandHandler } from '@nestjs/cqrs';
import {
  JobHandler,
  QueueBus,
  QueueEntity,
  QueueEntityId,
  QueueEventsManagerService,
  WorkerManagerService,
  WorkerProcessor,
  currentJobContext,
  type JobContext,
} from '../../src';
import { startApp, type TestApp } from './nest-testing';

@QueueEntity('ledger')
class PostEntryCommand extends Command<{ token: number | undefined }> {
  constructor(@QueueEntityId() public readonly ledgerId: string) {
    super();
  }
}

/** A store that checks fencing tokens, as the docs tell users to. */
@Injectable()
class FencedStore {
  readonly seen: (JobContext | undefined)[] = [];
  write(): number | undefined {
    const context = currentJobContext();
    this.seen.push(context);
    return context?.fencingToken;
  }
}

@CommandHandler(PostEntryCommand)
class PostEntryHandler implements ICommandHandler<PostEntryCommand> {
  constructor(private readonly store: FencedStore) {}
  execute() {
    return Promise.resolve({ token: this.store.write() });
  }
}

@WorkerProcessor({ entityType: 'ledger' })
class LedgerProcessor {
  @JobHandler('audit')
  audit(job: Job, entityId: string, context: JobContext) {
    return { entityId, context, same: currentJobContext() === context, name: job.name };
  }
}

describe('job context', () => {
  let t: TestApp;
  const claimed = new Map<string, number>();

  before(async () => {
    t = await startApp('fencing-token', {
      imports: [CqrsModule.forRoot()],
      providers: [FencedStore, PostEntryHandler, LedgerProcessor],
    });
    t.get(QueueEventsManagerService).on('entity:claimed', (e) =>
      claimed.set(e.entityId, e.fencingToken),
    );
  });
  after(() => t.close());

  it("a CQRS handler's store reads the entity's fencing token", async () => {
    const bus = t.get(QueueBus);
    const { token } = await bus.enqueueAndWait(new PostEntryCommand('L1'), {
      timeoutMs: 5000,
    });
    assert.equal(typeof token, 'number');
    assert.ok(token !== undefined && token >= 1);
    assert.equal(token, claimed.get('L1'), 'the token of the lease this pod holds');
    const context = t.get(FencedStore).seen[0];
    assert.equal(context?.entityType, 'ledger');
    assert.equal(context?.entityId, 'L1');
    assert.equal(context?.attempt, 1);
    assert.equal(context?.podId, t.get(WorkerManagerService).podId);
    assert.equal(currentJobContext(), undefined, 'no context outside a job');
  });

  it('a @JobHandler gets (job, entityId, context)', async () => {
    const result = await t
      .get(QueueBus)
      .forEntity('ledger', 'L2')
      .enqueueAndWait<{ entityId: string; context: JobContext; same: boolean; name: string }>(
        'audit',
        {},
        { timeoutMs: 5000 },
      );
    assert.equal(result.entityId, 'L2');
    assert.equal(result.name, 'audit');
    assert.equal(result.same, true);
    assert.equal(result.context.fencingToken, claimed.get('L2'));
  });
});
