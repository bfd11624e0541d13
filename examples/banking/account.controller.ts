import { randomUUID } from 'node:crypto';
import {
  BadRequestException,
  Body,
  Controller,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
} from '@nestjs/common';
import type { Command } from '@nestjs/cqrs';
// In an application: `from 'atomic-queues'`.
import { QueueBus } from '../../src';
import { AccountRepository } from './account.repository';
import { DepositCommand } from './commands/deposit.command';
import { TransferCommand } from './commands/transfer.command';
import { WithdrawCommand } from './commands/withdraw.command';
import type { BalanceResult, TransferResult } from './handlers/balance-result.interface';
import { parseAmount, parseBody, parseId, toHttpException } from './http-errors';

interface AmountBody {
  amount?: unknown;
  /** Idempotency key; a random one when absent. */
  operationId?: unknown;
}

interface TransferBody {
  to?: unknown;
  amount?: unknown;
  /** Idempotency key of the transfer; a random one when absent. */
  transferId?: unknown;
}

/**
 * The AccountController of the atomic-queues 1.x README, answering with the outcome: each call waits for its job
 * (`enqueueAndWait`), so an insufficient balance reaches the caller as HTTP 409.
 */
@Controller('accounts')
export class AccountController {
  constructor(
    private readonly queueBus: QueueBus,
    private readonly repo: AccountRepository,
  ) {}

  @Get(':id')
  balance(@Param('id') id: string): { accountId: string; balance: number } {
    const row = this.repo.store.account(id);
    if (!row) throw new NotFoundException(`Account ${id} does not exist`);
    return { accountId: row.id, balance: row.balance };
  }

  @Post(':id/withdraw')
  @HttpCode(200)
  withdraw(@Param('id') id: string, @Body() raw: unknown): Promise<BalanceResult> {
    const body = parseBody<AmountBody>(raw);
    const operationId = `withdrawal:${optionalId('operationId', body.operationId)}`;
    return this.run(new WithdrawCommand(parseId('id', id), parseAmount(body.amount), operationId));
  }

  @Post(':id/deposit')
  @HttpCode(200)
  deposit(@Param('id') id: string, @Body() raw: unknown): Promise<BalanceResult> {
    const body = parseBody<AmountBody>(raw);
    const operationId = `deposit:${optionalId('operationId', body.operationId)}`;
    return this.run(new DepositCommand(parseId('id', id), parseAmount(body.amount), operationId));
  }

  @Post(':id/transfer')
  @HttpCode(200)
  transfer(@Param('id') id: string, @Body() raw: unknown): Promise<TransferResult> {
    const body = parseBody<TransferBody>(raw);
    const from = parseId('id', id);
    const to = parseId('to', body.to);
    if (from === to) throw new BadRequestException('Cannot transfer to the same account');
    const transferId = optionalId('transferId', body.transferId);
    return this.run(new TransferCommand(from, to, parseAmount(body.amount), transferId));
  }

  /** Runs a command; its result type is the one the command declares (`Command<R>`). */
  private async run<R>(command: Command<R>): Promise<R> {
    try {
      return await this.queueBus.enqueueAndWait(command, { timeoutMs: 30_000 });
    } catch (err) {
      throw toHttpException(err);
    }
  }
}

function optionalId(name: string, value: unknown): string {
  return value === undefined ? randomUUID() : parseId(name, value);
}
