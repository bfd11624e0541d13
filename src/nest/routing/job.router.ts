import { Injectable } from '@nestjs/common';
import type { Job } from 'bullmq';
import type { JobContext } from '../../core';
import { NoRouteError } from '../../errors';
import { CqrsBridge } from '../cqrs/cqrs.bridge';
import { runWithJobContext } from '../job-context.storage';
import { RouteRegistry } from '../registry/route.registry';
import { CommandCodec } from '../serialization/command.codec';

/**
 * Runs one job, in atomic-queues 1.x's priority order: the entity type's explicit `@JobHandler(name)`,
 * then the CQRS handler of the job's class (revived as an instance of it), then the processor's
 * `@JobHandler('*')`. Nothing matching: the job fails with NoRouteError and stays in the failed
 * set. The job's context is readable through `currentJobContext()` for the whole call.
 */
@Injectable()
export class JobRouter {
  constructor(
    private readonly routes: RouteRegistry,
    private readonly cqrs: CqrsBridge,
  ) {}

  dispatch(entityType: string, job: Job, context: JobContext): Promise<unknown> {
    return runWithJobContext(context, () => this.run(entityType, job, context));
  }

  private async run(entityType: string, job: Job, context: JobContext): Promise<unknown> {
    const route = this.routes.resolve(entityType, job.name);
    switch (route.via) {
      case 'explicit':
      case 'wildcard':
        return route.method.call(job, context.entityId, context);
      case 'cqrs':
        return this.cqrs.execute(
          route.route,
          CommandCodec.revive(route.route.messageClass, job.data),
        );
      case 'none':
        // Logged once by the engine, with the job's other final failures.
        throw new NoRouteError(job.name, entityType, context.entityId);
    }
  }
}
