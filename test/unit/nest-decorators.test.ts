/**
 * @QueueEntity / @QueueEntityId / @WorkerProcessor / @JobHandler record what routing needs, and
 * reject mistakes as the class is defined. The id of a constructor parameter property is found
 * from the class source, also when a minifier renamed the parameter.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DuplicateEntityIdError,
  EntityIdParameterError,
  InvalidOptionsError,
  JobHandler,
  QueueEntity,
  QueueEntityId,
  WorkerProcessor,
} from '../../src';
import { jobHandlerNames } from '../../src/nest/decorators/job-handler.decorator';
import { workerProcessorOptions } from '../../src/nest/decorators/worker-processor.decorator';
import type { ClassType } from '../../src/nest/interfaces/class-type.interface';
import { QueueEntityAccessor } from '../../src/nest/metadata/queue-entity.accessor';

const idOf = (cls: ClassType): string | undefined => QueueEntityAccessor.idProperty(cls);

@QueueEntity('account')
class PropertyIdCommand {
  @QueueEntityId()
  accountId!: string;
  amount = 0;
}

@QueueEntity('account')
class ParameterIdCommand {
  constructor(
    @QueueEntityId() public readonly accountId: string,
    public readonly amount: number,
  ) {}
}

const helper = (a: number, b: number): number => a + b;

@QueueEntity('order')
class SecondParameterCommand {
  static readonly note = 'constructor(a) { this.wrong = a } {{';
  readonly label = `braces { and ( in ${'a template'} }`;
  constructor(
    public readonly total: number = helper(1, 2),
    @QueueEntityId() public readonly orderId: string = 'x',
  ) {}
  describe(): string {
    return `constructor(${this.orderId})`;
  }
}

@QueueEntity('order')
class AssignedIdCommand {
  readonly orderId: string;
  constructor(@QueueEntityId() id: string) {
    this.orderId = id;
  }
}

describe('@QueueEntity / @QueueEntityId', () => {
  it('records the entity type, and the id property from a property decorator', () => {
    assert.deepEqual(QueueEntityAccessor.entity(PropertyIdCommand), {
      entityType: 'account',
      idProperty: undefined,
    });
    assert.equal(idOf(PropertyIdCommand), 'accountId');
  });

  it('reads the id field of a constructor parameter property', () => {
    assert.equal(idOf(ParameterIdCommand), 'accountId');
  });

  it('finds the right parameter past defaults, strings and methods that mention `constructor(`', () => {
    assert.equal(idOf(SecondParameterCommand), 'orderId');
  });

  it('takes the field a plain parameter is assigned to', () => {
    assert.equal(idOf(AssignedIdCommand), 'orderId');
  });

  it('reads minified constructors (parameters renamed, fields kept)', () => {
    // What a minifier leaves of `constructor(public readonly accountId, public readonly amount)`.
    const Minified = class {
      constructor(e: string, t: number) {
        (this as Record<string, unknown>).accountId = e;
        (this as Record<string, unknown>).amount = t;
      }
    };
    QueueEntityId()(Minified, undefined, 0);
    assert.equal(idOf(Minified), 'accountId');
  });

  it('rejects a second @QueueEntityId on one class, as the class is defined', () => {
    assert.throws(
      () => {
        @QueueEntity('account')
        class _TwoIds {
          @QueueEntityId()
          other!: string;
          constructor(@QueueEntityId() public readonly accountId: string) {}
        }
        return _TwoIds;
      },
      (err: unknown) =>
        err instanceof DuplicateEntityIdError &&
        err.code === 'DUPLICATE_ENTITY_ID' &&
        /_TwoIds already takes its entity id from `other`.*`accountId`/.test(err.message),
    );
    assert.throws(() => {
      class _TwoProps {
        @QueueEntityId() a!: string;
        @QueueEntityId() b!: string;
      }
      return _TwoProps;
    }, DuplicateEntityIdError);
  });

  it('rejects an idProperty that contradicts @QueueEntityId', () => {
    assert.throws(() => {
      @QueueEntity('account', 'otherId')
      class _Contradiction {
        constructor(
          @QueueEntityId() public readonly accountId: string,
          public readonly otherId: string,
        ) {}
      }
      return _Contradiction;
    }, DuplicateEntityIdError);
  });

  it('rejects a destructured parameter, naming the class and the fix', () => {
    assert.throws(
      () => {
        class _Destructured {
          constructor(@QueueEntityId() { id }: { id: string }) {
            void id;
          }
        }
        return _Destructured;
      },
      (err: unknown) =>
        err instanceof EntityIdParameterError &&
        /parameter #0 of _Destructured: the parameter is destructured/.test(err.message) &&
        /Put @QueueEntityId\(\) on the property instead/.test(err.message),
    );
  });

  it('rejects a parameter that is not stored on the instance', () => {
    assert.throws(
      () => {
        class _NotStored {
          constructor(@QueueEntityId() id: string) {
            void id;
          }
        }
        return _NotStored;
      },
      (err: unknown) =>
        err instanceof EntityIdParameterError &&
        /`id` is not stored on the instance/.test(err.message),
    );
  });

  it('rejects a method parameter', () => {
    assert.throws(() => {
      class _MethodParam {
        run(@QueueEntityId() id: string): string {
          return id;
        }
      }
      return _MethodParam;
    }, EntityIdParameterError);
  });

  it('rejects an entity type Redis keys cannot carry', () => {
    assert.throws(
      () => QueueEntity('bad type')(class Bad {}),
      (err: unknown) =>
        err instanceof InvalidOptionsError &&
        err.message.startsWith('Expected `@QueueEntity() entity type of Bad` to be a type name'),
    );
  });
});

@WorkerProcessor({ entityType: 'account', maxWorkersPerEntity: 1 })
class AccountProcessor {
  @JobHandler('audit')
  @JobHandler('re-audit')
  audit(): string {
    return 'audit';
  }

  @JobHandler('*')
  other(): string {
    return 'other';
  }
}

const methodOf = (cls: ClassType, name: string): unknown =>
  Object.getOwnPropertyDescriptor(cls.prototype, name)?.value;

describe('@WorkerProcessor / @JobHandler', () => {
  it('records the processor options and every job name of a method', () => {
    assert.deepEqual(workerProcessorOptions(AccountProcessor), {
      entityType: 'account',
      maxWorkersPerEntity: 1,
    });
    assert.deepEqual([...jobHandlerNames(methodOf(AccountProcessor, 'audit'))].sort(), [
      'audit',
      're-audit',
    ]);
    assert.deepEqual(jobHandlerNames(methodOf(AccountProcessor, 'other')), ['*']);
  });

  it('rejects a processor without an entity type and an empty job name', () => {
    assert.throws(
      () => WorkerProcessor({} as { entityType: string }),
      (err: unknown) =>
        err instanceof InvalidOptionsError &&
        err.message.startsWith('Expected `@WorkerProcessor() options` to be an object'),
    );
    assert.throws(() => JobHandler(''), InvalidOptionsError);
  });
});
