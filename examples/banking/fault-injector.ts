import { Inject, Injectable } from '@nestjs/common';
import { BANKING_OPTIONS, type BankingOptions } from './banking-options';

/**
 * Test-only crash points. With `crashAfterDebitOf` set (env `BANKING_CRASH_AFTER_DEBIT`), the pod
 * kills itself with SIGKILL right after that transfer's debit is committed and before its credit
 * is enqueued: the window the transfer design has to survive. A no-op otherwise.
 */
@Injectable()
export class FaultInjector {
  constructor(@Inject(BANKING_OPTIONS) private readonly options: BankingOptions) {}

  afterDebit(transferId: string): void {
    if (this.options.crashAfterDebitOf === transferId) process.kill(process.pid, 'SIGKILL');
  }
}
