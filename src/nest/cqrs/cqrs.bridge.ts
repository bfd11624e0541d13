import { Injectable, Logger } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { CqrsUnavailableError } from '../../errors';
import { LOGGER_CONTEXT } from '../atomic-queues.constants';
import type { ClassType } from '../interfaces/class-type.interface';
import type { CqrsRoute } from '../registry/route.registry';

/** The part of CommandBus / QueryBus this bridge uses: both are public API of `@nestjs/cqrs`. */
interface MessageBus {
  execute(message: object): Promise<unknown>;
  /** @nestjs/cqrs 11 takes instance wrappers, 10 takes handler classes. */
  register(handlers: unknown[]): void;
}

interface Connected {
  readonly bus: MessageBus;
  readonly notFound: ClassType<Error>;
}

type CqrsPackage = typeof import('@nestjs/cqrs');

/** Loads `@nestjs/cqrs` if installed: it is an optional peer dependency. */
async function loadCqrs(): Promise<CqrsPackage | undefined> {
  try {
    return await import('@nestjs/cqrs');
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'MODULE_NOT_FOUND' && String(err).includes('@nestjs/cqrs')) return undefined;
    throw err;
  }
}

/**
 * Hands revived commands and queries to `@nestjs/cqrs`'s CommandBus / QueryBus. Loaded lazily and
 * only when the application has CQRS handlers for queued classes, so the module works without
 * `@nestjs/cqrs` installed.
 */
@Injectable()
export class CqrsBridge {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  private command?: Connected;
  private query?: Connected;

  constructor(private readonly moduleRef: ModuleRef) {}

  /** Finds the buses; throws CqrsUnavailableError, naming `handlerName`, when it can't. */
  async connect(handlerName: string): Promise<void> {
    const cqrs = await loadCqrs();
    if (!cqrs) throw new CqrsUnavailableError(handlerName, '`@nestjs/cqrs` is not installed');
    const commandBus = this.find(cqrs.CommandBus);
    const queryBus = this.find(cqrs.QueryBus);
    if (!commandBus || !queryBus)
      throw new CqrsUnavailableError(handlerName, 'no CommandBus / QueryBus is provided');
    this.command = { bus: commandBus, notFound: cqrs.CommandHandlerNotFoundException };
    this.query = { bus: queryBus, notFound: cqrs.QueryHandlerNotFoundException };
  }

  /**
   * Runs a revived message through its bus. `@nestjs/cqrs` binds handlers in its own
   * `onApplicationBootstrap`, which Nest may call after ours: a job taken in that window finds
   * the bus empty. The bus says so before running anything (CommandBus throws synchronously,
   * QueryBus rejects naming the query), and only then we bind the handler we discovered through
   * the bus's public `register()` and try again.
   */
  async execute(route: CqrsRoute, message: object): Promise<unknown> {
    const target = route.kind === 'command' ? this.command : this.query;
    if (!target)
      throw new CqrsUnavailableError(route.handlerName, 'the CQRS buses were not connected');
    const { bus, notFound } = target;
    let pending: Promise<unknown>;
    try {
      pending = bus.execute(message);
    } catch (err) {
      if (!(err instanceof notFound)) throw err;
      return this.bindAndRetry(bus, route, message);
    }
    if (route.kind === 'command') return pending;
    try {
      return await pending;
    } catch (err) {
      if (!(err instanceof notFound) || !err.message.includes(`"${route.messageClass.name}"`))
        throw err;
      return this.bindAndRetry(bus, route, message);
    }
  }

  private bindAndRetry(bus: MessageBus, route: CqrsRoute, message: object): Promise<unknown> {
    this.logger.debug(`Binding ${route.handlerName} to the ${route.kind} bus ahead of CqrsModule`);
    try {
      bus.register([route.handler]); // @nestjs/cqrs 11: instance wrappers
    } catch {
      bus.register([route.handler.metatype]); // @nestjs/cqrs 10: handler classes
    }
    return bus.execute(message);
  }

  private find(token: ClassType): MessageBus | undefined {
    try {
      return this.moduleRef.get<MessageBus>(token, { strict: false });
    } catch {
      return undefined; // not provided: CqrsModule is not imported
    }
  }
}
