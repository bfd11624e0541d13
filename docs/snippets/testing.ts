import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CqrsModule } from '@nestjs/cqrs';
import { Test } from '@nestjs/testing';
import { JobFailedError, QueueBus } from 'atomic-queues';
import { AtomicQueuesTestingModule, InMemoryEngine, ManualClock } from 'atomic-queues/testing';
import { WithdrawCommand } from './commands';
import { WithdrawHandler } from './handlers';
import { AccountRepository } from './repository';

test('withdrawals run through the handler, in order, without Redis', async () => {
  const moduleRef = await Test.createTestingModule({
    imports: [
      CqrsModule,
      // The app's AtomicQueuesModule options work as they are (`redis` is ignored).
      AtomicQueuesTestingModule.forRoot({ entities: { account: {} } }),
    ],
    providers: [AccountRepository, WithdrawHandler],
  }).compile();
  await moduleRef.init(); // starts the engine, as the app's bootstrap does
  await moduleRef.get(AccountRepository).save({ id: 'acct-1', balance: 100 });
  const bus = moduleRef.get(QueueBus);

  assert.equal(await bus.enqueueAndWait(new WithdrawCommand('acct-1', 30)), 70);
  await assert.rejects(
    bus.enqueueAndWait(new WithdrawCommand('acct-1', 500)),
    (err) => err instanceof JobFailedError && err.name === 'InsufficientFundsError',
  );
  await bus.enqueue(new WithdrawCommand('acct-1', 20));
  await bus.enqueue(new WithdrawCommand('acct-1', 10));

  const engine = moduleRef.get(InMemoryEngine);
  await engine.drain(); // every job has run
  assert.deepEqual(
    engine.runs('account', 'acct-1').map((r) => r.status),
    ['completed', 'failed', 'completed', 'completed'],
  );
  await moduleRef.close();
});

test('a failed attempt is retried after its backoff, before the next job', async () => {
  const clock = new ManualClock();
  const engine = new InMemoryEngine({
    clock, // time moves only when the test says
    entities: { account: { attempts: 2, backoff: { type: 'fixed', delay: 60_000 } } },
  });
  let calls = 0;
  engine.registerHandler('account', (job) => {
    calls += 1;
    if (calls === 1) throw new Error('provider timeout');
    return job.name;
  });
  await engine.start();
  await engine.enqueue('account', 'acct-1', 'charge', {});
  await engine.enqueue('account', 'acct-1', 'notify', {});
  await engine.waitIdle(); // the first attempt failed; the retry waits out its backoff
  assert.equal(calls, 1);

  await engine.advanceTime(60_000);
  assert.deepEqual(
    engine.runs('account', 'acct-1').map((r) => `${r.name}#${r.attempt} ${r.status}`),
    ['charge#1 retrying', 'charge#2 completed', 'notify#1 completed'],
  );
  await engine.stop();
});
