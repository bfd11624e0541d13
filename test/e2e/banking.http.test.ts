// The banking example booted in-process through @nestjs/testing, against the real Redis at
// REDIS_URL: its HTTP controller and QueueBus, end to end.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Redis } from 'ioredis';
import { QueueBus } from '../../src';
import { BankingModule } from '../../examples/banking/banking.module';
import { DepositCommand } from '../../examples/banking/commands/deposit.command';
import type { BankStore } from '../../examples/banking/store/bank-store';
import { cleanPrefix, newRedis, redisUrl, uniquePrefix } from '../helpers/redis';
import { waitFor } from '../../support/async';
import { post, tempStore } from './banking-fixture';

describe('banking example over HTTP (one app, real Redis)', () => {
  const prefix = uniquePrefix('bankinghttp');
  // Each test seeds the accounts it uses, so tests don't depend on each other.
  const fixture = tempStore({});
  const store: BankStore = fixture.store;
  let app: INestApplication;
  let url: string;
  let redis: Redis;

  before(async () => {
    redis = newRedis();
    const moduleRef = await Test.createTestingModule({
      imports: [
        BankingModule.forRoot({
          redisUrl: redisUrl(),
          keyPrefix: prefix,
          storePath: fixture.path,
          podName: 'test-pod',
          storeLatencyMs: 1,
          heartbeatTTL: 3,
          withoutLibrary: false,
          outboxIntervalMs: 0,
        }),
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: ['error'] });
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
  });

  after(async () => {
    await app?.close();
    await cleanPrefix(redis, prefix);
    await redis.quit();
    fixture.remove();
  });

  test('a withdrawal answers with the new balance', async () => {
    store.seed({ alice: 100 });
    const res = await post(`${url}/accounts/alice/withdraw`, { amount: 30 });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body, { accountId: 'alice', balance: 70, applied: true });
    assert.equal(store.account('alice')?.balance, 70);
  });

  test('a withdrawal above the balance is HTTP 409 and changes nothing', async () => {
    store.seed({ dave: 50 });
    const res = await post(`${url}/accounts/dave/withdraw`, { amount: 51 });
    assert.equal(res.status, 409, JSON.stringify(res.body));
    assert.match(res.body.message, /dave has 50, cannot take 51/);
    assert.equal(store.account('dave')?.balance, 50);
    assert.equal(store.ledger('dave').length, 0);
  });

  test('a deposit repeated with the same operation id is applied once', async () => {
    store.seed({ erin: 0 });
    const first = await post(`${url}/accounts/erin/deposit`, { amount: 25, operationId: 'dep-1' });
    const again = await post(`${url}/accounts/erin/deposit`, { amount: 25, operationId: 'dep-1' });
    assert.deepEqual(first.body, { accountId: 'erin', balance: 25, applied: true });
    assert.deepEqual(again.body, { accountId: 'erin', balance: 25, applied: false });
    assert.equal(store.account('erin')?.balance, 25);
    assert.equal(store.ledger('erin').length, 1);
  });

  test('a transfer debits the source at once and credits the destination through its queue', async () => {
    store.seed({ carol: 200, bob: 0 });
    const res = await post(`${url}/accounts/carol/transfer`, {
      to: 'bob',
      amount: 120,
      transferId: 'tr-1',
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.balance, 80);
    await waitFor(() => store.transfer('tr-1')?.creditedAt != null, {
      timeoutMs: 10_000,
      message: 'transfer tr-1 credited to bob',
    });
    assert.equal(store.account('carol')?.balance, 80);
    assert.equal(store.account('bob')?.balance, 120);
    const rows = store.ledger().filter((l) => l.operationId.startsWith('transfer:tr-1:'));
    assert.deepEqual(rows.map((l) => [l.kind, l.accountId, l.amount]).sort(), [
      ['transfer-credit', 'bob', 120],
      ['transfer-debit', 'carol', -120],
    ]);
    // Every write went through a job and carried its fencing token.
    assert.ok(rows.every((l) => typeof l.fence === 'number' && l.fence > 0));
  });

  test('a transfer above the balance is HTTP 409: nothing debited, nothing to credit', async () => {
    store.seed({ hank: 50, ivy: 0 });
    const res = await post(`${url}/accounts/hank/transfer`, {
      to: 'ivy',
      amount: 500,
      transferId: 'tr-2',
    });
    assert.equal(res.status, 409, JSON.stringify(res.body));
    assert.equal(store.transfer('tr-2'), undefined);
    assert.equal(store.account('hank')?.balance, 50);
    assert.equal(store.account('ivy')?.balance, 0);
  });

  test('an unknown account is HTTP 404, a bad amount HTTP 400', async () => {
    store.seed({ alice: 100 });
    assert.equal((await post(`${url}/accounts/zoe/withdraw`, { amount: 1 })).status, 404);
    assert.equal((await post(`${url}/accounts/alice/withdraw`, { amount: -5 })).status, 400);
    assert.equal((await post(`${url}/accounts/alice/withdraw`, { amount: 1.5 })).status, 400);
  });

  test('concurrent withdrawals of one account never overdraw it', async () => {
    store.seed({ gina: 200 });
    const answers = await Promise.all(
      Array.from({ length: 40 }, () => post(`${url}/accounts/gina/withdraw`, { amount: 10 })),
    );
    const statuses = answers.map((a) => a.status).sort();
    assert.equal(statuses.filter((s) => s === 200).length, 20, statuses.join(','));
    assert.equal(statuses.filter((s) => s === 409).length, 20, statuses.join(','));
    assert.equal(store.account('gina')?.balance, 0);
    assert.ok(store.ledger('gina').every((l) => l.balanceAfter >= 0));
  });

  test('QueueBus.enqueueAndWait returns the handler result; the command arrives whole', async () => {
    store.seed({ frank: 70 });
    const bus = app.get(QueueBus);
    const result = await bus.enqueueAndWait(new DepositCommand('frank', 5, 'deposit:bus-1'), {
      timeoutMs: 10_000,
    });
    assert.deepEqual(result, { accountId: 'frank', balance: 75, applied: true });
    assert.equal(store.operation('deposit:bus-1')?.pod, 'test-pod');
  });
});
