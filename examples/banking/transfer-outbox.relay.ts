import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
// In an application: `from 'atomic-queues'`.
import { QueueBus } from '../../src';
import { BANKING_OPTIONS, type BankingOptions } from './banking-options';
import { AccountRepository } from './account.repository';
import { DepositCommand } from './commands/deposit.command';
import { transferCreditId, transferCreditJobId } from './commands/operation-ids';

/** Transfers debited longer ago than this without their credit are re-enqueued. */
const GRACE_MS = 2_000;

/**
 * The outbox relay: the safety net behind the transfer handler. A debited transfer whose credit
 * has not been applied after GRACE_MS gets its credit enqueued again, with the same job id
 * (ignored while that job still exists) to a deposit that is idempotent anyway. Covers a transfer
 * job that can never run again (failed after its pod died more than `maxStalledCount` times).
 */
@Injectable()
export class TransferOutboxRelay implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(TransferOutboxRelay.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    @Inject(BANKING_OPTIONS) private readonly options: BankingOptions,
    private readonly repo: AccountRepository,
    private readonly queueBus: QueueBus,
  ) {}

  onApplicationBootstrap(): void {
    if (this.options.withoutLibrary || this.options.outboxIntervalMs <= 0) return;
    this.timer = setInterval(() => {
      this.running ??= this.relay()
        .then(() => undefined)
        .catch((err: unknown) => this.logger.error(`Outbox relay failed: ${String(err)}`))
        .finally(() => (this.running = undefined));
    }, this.options.outboxIntervalMs);
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass; returns how many credits it enqueued. */
  async relay(now = Date.now()): Promise<number> {
    const pending = this.repo.store.pendingTransfers(now - GRACE_MS, 100);
    for (const t of pending) {
      await this.queueBus.enqueue(
        new DepositCommand(t.toId, t.amount, transferCreditId(t.id), t.id),
        { jobId: transferCreditJobId(t.id) },
      );
    }
    return pending.length;
  }
}
