import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { CommandBus, type ICommand } from '@nestjs/cqrs';

/**
 * Stands in for the library's QueueBus in the demo's `--without-library` mode: the same
 * controller and handlers, but every command runs at once, concurrently with every other, in
 * the pod that received it. `enqueueAndWait` awaits the handler; `enqueue` starts it in the
 * background. This is the "straight into the handlers" baseline the queues are compared with.
 */
@Injectable()
export class DirectQueueBus {
  private readonly logger = new Logger('DirectQueueBus');

  constructor(private readonly commandBus: CommandBus) {}

  enqueueAndWait<T = unknown>(command: ICommand, _opts?: { timeoutMs?: number }): Promise<T> {
    return this.commandBus.execute<ICommand, T>(command);
  }

  execute<T = unknown>(command: ICommand, opts?: { timeoutMs?: number }): Promise<T> {
    return this.enqueueAndWait<T>(command, opts);
  }

  enqueue(command: ICommand, opts: { jobId?: string } = {}): Promise<string> {
    this.commandBus
      .execute(command)
      .catch((err: unknown) => this.logger.error(`Background command failed: ${String(err)}`));
    return Promise.resolve(opts.jobId ?? randomUUID());
  }
}
