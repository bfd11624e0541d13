import { Inject, Injectable } from '@nestjs/common';
import {
  AtomicEngine,
  type QueueEngine,
  normalizeEntityId,
  type EnqueueAndWaitOptions,
  type EnqueueOptions,
} from '../core';
import {
  MissingEntityIdError,
  NotAProcessorError,
  rejected,
  UnknownEntityTypeError,
} from '../errors';
import type { CommandResult, QueueMessage } from './commands/queue-command';
import { workerProcessorOptions } from './decorators/worker-processor.decorator';
import type { ClassType } from './interfaces/class-type.interface';
import type {
  BulkCommand,
  EntityTarget,
  ProcessorTarget,
} from './interfaces/queue-bus-targets.interface';
import { QueueEntityAccessor } from './metadata/queue-entity.accessor';
import { CommandCodec, type CommandDescriptor } from './serialization/command.codec';

interface PreparedJob {
  type: string;
  entityId: unknown;
  name: string;
  data: unknown;
  opts?: EnqueueOptions;
}

/**
 * Sends commands and queries to their entity's queue. A command is an instance of a
 * `@QueueEntity` class: its entity type comes from the decorator, its id from the
 * `@QueueEntityId` property (or `idProperty`, or `entities[type].defaultEntityId`), its job name
 * from the class's registered name, its payload from its own fields.
 *
 * Bad input is rejected before anything is written, with typed errors: MissingQueueEntityError,
 * MissingEntityIdError, InvalidEntityIdError, UnknownEntityTypeError, InvalidPayloadError.
 */
@Injectable()
export class QueueBus {
  constructor(@Inject(AtomicEngine) private readonly engine: QueueEngine) {}

  /**
   * Stores the command's job; resolves with the job's id once Redis has it. The id is unique
   * across entities; with the command's entity it addresses the job: `waitForJob(type, entityId,
   * jobId)`, the failed-job calls.
   */
  async enqueue<C extends object>(
    command: QueueMessage<C>,
    opts?: EnqueueOptions,
  ): Promise<string> {
    const job = this.prepare(command, opts);
    return this.engine.enqueue(job.type, job.entityId, job.name, job.data, opts);
  }

  /**
   * Enqueues the command and resolves with its handler's return value; rejects with
   * JobFailedError carrying the handler error's `name` and `message`, or JobTimeoutError. The
   * result's type is the one the command declares (`QueueCommand<R>`, or `@nestjs/cqrs`'s
   * `Command<R>`), else `unknown`.
   */
  enqueueAndWait<C extends object>(
    command: QueueMessage<C>,
    opts?: EnqueueAndWaitOptions,
  ): Promise<CommandResult<C>> {
    // Not async (a bad command, or an engine not started, still rejects): in a burst, every
    // call's frame and promises would stay alive until its result.
    try {
      const job = this.prepare(command, opts);
      // The handler's result, as the command's class declares it: the type is the user's promise.
      return this.engine.enqueueAndWait(
        job.type,
        job.entityId,
        job.name,
        job.data,
        opts,
      ) as Promise<CommandResult<C>>;
    } catch (err) {
      return rejected(err);
    }
  }

  /** Alias of {@link enqueueAndWait}, named like `CommandBus.execute`. */
  execute<C extends object>(
    command: QueueMessage<C>,
    opts?: EnqueueAndWaitOptions,
  ): Promise<CommandResult<C>> {
    return this.enqueueAndWait<C>(command, opts);
  }

  /**
   * Enqueues many commands (or `{ command, opts }` items); resolves with their job ids in order.
   * Every item is checked before any is written. Jobs of one entity keep their order.
   */
  async enqueueBulk(commands: ReadonlyArray<object | BulkCommand>): Promise<string[]> {
    const jobs = commands.map((item) =>
      isBulkCommand(item) ? this.prepare(item.command, item.opts) : this.prepare(item),
    );
    return this.engine.enqueueBulk(jobs);
  }

  /** Raw named jobs for the entity type of a `@WorkerProcessor` class. */
  forProcessor(processor: ClassType): ProcessorTarget {
    const options = workerProcessorOptions(processor);
    if (!options) throw new NotAProcessorError(processor?.name || String(processor));
    const type = this.knownType(options.entityType);
    const engine = this.engine;
    return {
      entityType: type,
      enqueue: (jobName, entityId, data, opts) =>
        engine.enqueue(type, entityId, jobName, data ?? {}, opts),
      enqueueAndWait: async <T>(
        jobName: string,
        entityId: string | number,
        data?: unknown,
        opts?: EnqueueAndWaitOptions,
      ) => (await engine.enqueueAndWait(type, entityId, jobName, data ?? {}, opts)) as T,
    };
  }

  /** Raw named jobs for one entity. Checks the type and id now (UnknownEntityTypeError, InvalidEntityIdError). */
  forEntity(entityType: string, entityId: string | number): EntityTarget {
    const type = this.knownType(entityType);
    const id = normalizeEntityId(type, entityId);
    const engine = this.engine;
    return {
      entityType: type,
      entityId: id,
      enqueue: (jobName, data, opts) => engine.enqueue(type, id, jobName, data ?? {}, opts),
      enqueueAndWait: async <T>(jobName: string, data?: unknown, opts?: EnqueueAndWaitOptions) =>
        (await engine.enqueueAndWait(type, id, jobName, data ?? {}, opts)) as T,
    };
  }

  private prepare(command: object, opts?: EnqueueOptions): PreparedJob {
    const described = CommandCodec.describe(command);
    return {
      type: described.entityType,
      // Checked here so a bad id is reported as such even when it also spoils the payload (NaN).
      entityId: normalizeEntityId(
        described.entityType,
        (command as Record<string, unknown>)[this.idProperty(described)],
      ),
      name: described.jobName,
      data: CommandCodec.payload(command),
      opts,
    };
  }

  /** `@QueueEntity` idProperty, else `@QueueEntityId`, else the type's `defaultEntityId`. */
  private idProperty(command: CommandDescriptor): string {
    const property =
      command.idProperty ??
      QueueEntityAccessor.idProperty(command.cls) ??
      this.engine.entityType(command.entityType)?.defaultEntityId;
    if (property === undefined) {
      if (!this.engine.entityType(command.entityType))
        throw new UnknownEntityTypeError(command.entityType, this.engine.entityTypes());
      throw new MissingEntityIdError(command.cls.name, command.entityType);
    }
    return property;
  }

  private knownType(entityType: string): string {
    if (!this.engine.entityType(entityType))
      throw new UnknownEntityTypeError(String(entityType), this.engine.entityTypes());
    return entityType;
  }
}

function isBulkCommand(item: object | BulkCommand): item is BulkCommand {
  return (
    Object.getPrototypeOf(item) === Object.prototype &&
    typeof (item as { command?: unknown }).command === 'object'
  );
}
