/**
 * QueueBus.enqueueAndWait / execute resolve with the handler's return value and reject with its
 * error's name and message; enqueue resolves with the job id; enqueueBulk keeps per-entity order.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConflictException, Injectable } from '@nestjs/common';
import { CommandHandler, CqrsModule, type ICommandHandler } from '@nestjs/cqrs';
import {
  JobFailedError,
  JobTimeoutError,
  QueueBus,
  QueueEntity,
  QueueEntityId,
  QueueEventsManagerService,
} from '../../src';
import { waitFor } from '../../support/async';
import { gate, startApp, type TestApp } from './nest-testing';

class InsufficientFundsError extends Error {
  constructor(accountId: string, balance: number) {
    super(`Account ${accountId} has only ${balance}`);
    this.name = 'InsufficientFundsError';
  }
}

@QueueEntity('wallet')
class SpendCommand {
  constructor(
    @QueueEntityId() public readonly walletId: string,
    public readonly amount: number,
    public readonly hold = false,
    public readonly http = false,
  ) {}
}

/** The wallets (100 each to start with), in the app; each test spends from wallets of its own. */
@Injectable()
class Wallets {
  readonly balances = new Map<string, number>();
  readonly spent: { walletId: string; amount: number }[] = [];
  /** What a SpendCommand with `hold` waits for. */
  readonly held = gate();
}

@CommandHandler(SpendCommand)
class SpendHandler implements ICommandHandler<SpendCommand> {
  constructor(private readonly wallets: Wallets) {}

  async execute({ walletId, amount, hold, http }: SpendCommand) {
    const { balances, spent, held } = this.wallets;
    if (hold) await held.promise;
    const balance = balances.get(walletId) ?? 100;
    if (balance < amount && http) throw new ConflictException(`Wallet ${walletId} is short`);
    if (balance < amount) throw new InsufficientFundsError(walletId, balance);
    balances.set(walletId, balance - amount);
    spent.push({ walletId, amount });
    return { walletId, balance: balance - amount };
  }
}

describe('QueueBus results', () => {
  let t: TestApp;
  let bus: QueueBus;
  let wallets: Wallets;

  before(async () => {
    t = await startApp('enqueue-and-wait', {
      imports: [CqrsModule.forRoot()],
      providers: [Wallets, SpendHandler],
    });
    bus = t.get(QueueBus);
    wallets = t.get(Wallets);
  });
  after(async () => {
    wallets.held.open(); // lets a held job finish if its test failed
    await t.close();
  });

  it("an HttpException's status and response reach the caller, so it can answer with them", async () => {
    const err = await bus
      .enqueueAndWait(new SpendCommand('w-http', 500, false, true), { timeoutMs: 5000 })
      .then(
        () => assert.fail('expected a JobFailedError'),
        (e: unknown) => e as JobFailedError & { status?: number; response?: unknown },
      );
    assert.ok(err instanceof JobFailedError);
    assert.equal(err.name, 'ConflictException');
    assert.equal(err.status, 409);
    assert.deepEqual(err.response, {
      statusCode: 409,
      message: 'Wallet w-http is short',
      error: 'Conflict',
    });
  });

  it('enqueueAndWait resolves with the handler result', async () => {
    assert.deepEqual(
      await bus.enqueueAndWait(new SpendCommand('w-wait', 30), { timeoutMs: 5000 }),
      { walletId: 'w-wait', balance: 70 },
    );
  });

  it('execute is the same call', async () => {
    await bus.execute(new SpendCommand('w-execute', 30), { timeoutMs: 5000 });
    assert.deepEqual(await bus.execute(new SpendCommand('w-execute', 20), { timeoutMs: 5000 }), {
      walletId: 'w-execute',
      balance: 50,
    });
  });

  it("rejects with the handler error's name and message", async () => {
    await bus.enqueueAndWait(new SpendCommand('w-poor', 50), { timeoutMs: 5000 });
    await assert.rejects(
      bus.enqueueAndWait(new SpendCommand('w-poor', 500), { timeoutMs: 5000 }),
      (err: unknown) =>
        err instanceof JobFailedError &&
        err.name === 'InsufficientFundsError' &&
        err.handlerErrorName === 'InsufficientFundsError' &&
        err.message === 'Account w-poor has only 50',
    );
  });

  it('rejects with JobTimeoutError when no result comes in time', async () => {
    await assert.rejects(
      bus.enqueueAndWait(new SpendCommand('w-held', 1, true), { timeoutMs: 200 }),
      JobTimeoutError,
    );
    wallets.held.open();
    await waitFor(() => wallets.spent.some((s) => s.walletId === 'w-held'), {
      message: 'the held job still runs after the caller stopped waiting',
    });
  });

  it('enqueue resolves with the job id once stored; the job then runs', async () => {
    const events = t.get(QueueEventsManagerService);
    const completed: string[] = [];
    const off = events.on('job:completed', (e) => completed.push(e.jobId));
    const jobId = await bus.enqueue(new SpendCommand('w-enqueue', 1), { jobId: 'spend-1' });
    assert.equal(jobId, 'spend-1');
    await waitFor(() => completed.includes(jobId), { message: 'the job completed' });
    off();
  });

  it('enqueueBulk returns ids in order and keeps each entity in order', async () => {
    const commands = [1, 2, 3, 4, 5, 6].map((n) => new SpendCommand(n % 2 ? 'w-b1' : 'w-b2', n));
    const ids = await bus.enqueueBulk([
      ...commands.slice(0, 5),
      { command: commands[5], opts: { jobId: 'bulk-last' } },
    ]);
    assert.equal(ids.length, 6);
    assert.equal(ids[5], 'bulk-last');
    const order = (id: string) =>
      wallets.spent.filter((s) => s.walletId === id).map((s) => s.amount);
    await waitFor(() => order('w-b1').length + order('w-b2').length === 6, {
      message: 'all bulk jobs ran',
    });
    assert.deepEqual(order('w-b1'), [1, 3, 5]);
    assert.deepEqual(order('w-b2'), [2, 4, 6]);
  });
});
