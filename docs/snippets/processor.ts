import { Injectable } from '@nestjs/common';
import type { Job } from 'bullmq';
import { JobHandler, QueueBus, WorkerProcessor, type JobContext } from 'atomic-queues';

@WorkerProcessor({
  entityType: 'account',
  queueName: (id) => `account-${id}-queue`,
  workerName: (id) => `account-${id}-worker`,
  maxWorkersPerEntity: 1,
  idleTimeoutSeconds: 15,
})
@Injectable()
export class AccountProcessor {
  @JobHandler('high-priority-audit')
  async handleAudit(
    job: Job<{ reason: string }>,
    entityId: string,
    context: JobContext,
  ): Promise<{ audited: string; reason: string; fence: number }> {
    // Runs alone for this account; the fencing token guards writes to your store.
    return { audited: entityId, reason: job.data.reason, fence: context.fencingToken };
  }

  @JobHandler('*')
  async handleAll(job: Job<unknown>, entityId: string): Promise<void> {
    // Anything without an explicit handler or a CQRS handler lands here.
  }
}

@Injectable()
export class AuditService {
  constructor(private readonly queueBus: QueueBus) {}

  audit(accountId: string): Promise<string> {
    return this.queueBus
      .forProcessor(AccountProcessor)
      .enqueue('high-priority-audit', accountId, { reason: 'manual' });
  }

  ping(accountId: string): Promise<unknown> {
    return this.queueBus.forEntity('account', accountId).enqueueAndWait('ping', {});
  }
}
