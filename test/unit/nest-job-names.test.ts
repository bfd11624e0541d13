/**
 * Stable job names: a class's name is its explicit @JobCommand/@JobQuery name, else its class name
 * captured at decoration time, looked up by class reference (never `constructor.name` at run
 * time); two classes under one name are an error.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DuplicateJobNameError,
  JobCommand,
  JobQuery,
  MissingQueueEntityError,
  QueueEntity,
  QueueEntityId,
} from '../../src';
import { JobNameRegistry, jobNames } from '../../src/nest/registry/job-name.registry';
import { CommandCodec } from '../../src/nest/serialization/command.codec';

@QueueEntity('account')
class ImplicitNameCommand {
  constructor(@QueueEntityId() public readonly accountId: string) {}
}

@QueueEntity('account')
@JobCommand('account.rename')
class ExplicitBelowCommand {
  constructor(@QueueEntityId() public readonly accountId: string) {}
}

@JobQuery('account.balance')
@QueueEntity('account')
class ExplicitAboveQuery {
  constructor(@QueueEntityId() public readonly accountId: string) {}
}

class SubclassCommand extends ImplicitNameCommand {}

describe('job names', () => {
  it('uses the class name captured when the decorator ran', () => {
    assert.equal(jobNames.nameOf(ImplicitNameCommand), 'ImplicitNameCommand');
    assert.equal(jobNames.classFor('ImplicitNameCommand'), ImplicitNameCommand);
  });

  it('uses the explicit name, whichever decorator runs first', () => {
    assert.equal(jobNames.nameOf(ExplicitBelowCommand), 'account.rename');
    assert.equal(jobNames.nameOf(ExplicitAboveQuery), 'account.balance');
    assert.equal(jobNames.classFor('account.balance'), ExplicitAboveQuery);
    assert.equal(jobNames.classFor('ExplicitBelowCommand'), undefined);
    assert.equal(jobNames.classFor('ExplicitAboveQuery'), undefined);
  });

  it('keeps the captured name when the class name changes at run time (minified bundles)', () => {
    @QueueEntity('account')
    class WillBeRenamed {
      constructor(@QueueEntityId() public readonly accountId: string) {}
    }
    Object.defineProperty(WillBeRenamed, 'name', { value: 'e' });
    assert.equal(CommandCodec.describe(new WillBeRenamed('1')).jobName, 'WillBeRenamed');
  });

  it('looks classes up by reference: an undecorated subclass is not its parent', () => {
    assert.throws(
      () => CommandCodec.describe(new SubclassCommand('1')),
      (err: unknown) =>
        err instanceof MissingQueueEntityError &&
        err.message.startsWith('SubclassCommand is not decorated with @QueueEntity'),
    );
  });

  it('rejects a second class under an explicit name at decoration time', () => {
    assert.throws(
      () => {
        @QueueEntity('account')
        @JobCommand('account.rename')
        class Impostor {
          constructor(@QueueEntityId() public readonly accountId: string) {}
        }
        return Impostor;
      },
      (err: unknown) =>
        err instanceof DuplicateJobNameError &&
        err.code === 'DUPLICATE_JOB_NAME' &&
        err.message.includes('`account.rename` is registered by more than one class') &&
        err.message.includes('ExplicitBelowCommand, Impostor'),
    );
    assert.equal(jobNames.classFor('account.rename'), ExplicitBelowCommand);
  });

  it('reports two classes sharing a class name when the name is used, and at validation', () => {
    const registry = new JobNameRegistry();
    const first = class Twin {};
    const second = class Twin {};
    registry.registerImplicit(first);
    registry.registerImplicit(second);
    assert.throws(() => registry.classFor('Twin'), DuplicateJobNameError);
    assert.throws(() => registry.validate(), /`Twin` is registered by more than one class/);
    // An explicit name on one of them settles it.
    registry.registerExplicit(second, 'twin.second');
    assert.equal(registry.classFor('Twin'), first);
    assert.equal(registry.classFor('twin.second'), second);
    registry.validate();
  });

  it('refuses a second, different explicit name for one class', () => {
    const registry = new JobNameRegistry();
    const cls = class Named {};
    registry.registerExplicit(cls, 'a');
    assert.throws(() => registry.registerExplicit(cls, 'b'), /one name \(it is already `a`\)/);
  });
});
