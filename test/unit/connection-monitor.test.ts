/**
 * The connection monitor turns what ioredis reports (an error per reconnection attempt, close
 * and ready events per connection) into one `lost` per outage and one `restored` when every
 * connection is ready again, with the downtime; errors that are not about the connection go on
 * as errors. Fake clients and a manual clock: no Redis, no sleeps.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { beforeEach, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { ManualClock } from '../../src/core/clock';
import { ConnectionMonitor } from '../../src/redis/connection-monitor';

class FakeClient extends EventEmitter {
  status = 'ready';
  drop(): void {
    this.status = 'reconnecting';
    this.emit('close');
  }
  refuse(): void {
    this.emit('error', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
  }
  back(): void {
    this.status = 'ready';
    this.emit('ready');
  }
}

describe('ConnectionMonitor', () => {
  let clock: ManualClock;
  let heard: string[];
  let monitor: ConnectionMonitor;
  let a: FakeClient;
  let b: FakeClient;
  const follow = (c: FakeClient, name: string) => monitor.follow(c as unknown as Redis, name);

  beforeEach(() => {
    clock = new ManualClock(1_000);
    heard = [];
    monitor = new ConnectionMonitor(
      {
        lost: (p) => heard.push(`lost ${p.reason}`),
        restored: (ms) => heard.push(`restored ${ms}`),
        error: (e, context) => heard.push(`error ${(e as Error).message} (${context})`),
      },
      () => clock.now(),
    );
    a = new FakeClient();
    b = new FakeClient();
    follow(a, 'cmd');
    follow(b, 'blk');
    monitor.arm();
  });

  it('one lost per outage, one restored once every connection is back', () => {
    a.drop();
    b.drop();
    for (let i = 0; i < 5; i++) {
      a.refuse();
      b.refuse();
      a.drop();
      b.drop();
    }
    clock.advance(2_500);
    a.back();
    assert.deepEqual(heard, ['lost closed'], 'one connection back is not the end');
    b.back();
    assert.deepEqual(heard, ['lost closed', 'restored 2500']);
    a.drop();
    clock.advance(10);
    a.back();
    assert.deepEqual(heard, ['lost closed', 'restored 2500', 'lost closed', 'restored 10']);
  });

  it('an outage that starts with a refusal says so', () => {
    a.status = 'reconnecting';
    a.refuse();
    assert.deepEqual(heard, ['lost refused']);
  });

  it('an error that is not about the connection, on a ready one, is an error', () => {
    a.emit('error', new Error('ERR something odd'));
    assert.deepEqual(heard, ['error ERR something odd (Redis connection cmd)']);
  });

  it('hears nothing after disarm, or from a client no longer followed', () => {
    const c = new FakeClient();
    const stop = follow(c, 'sub');
    stop();
    c.drop();
    c.back();
    monitor.disarm();
    a.drop();
    a.back();
    assert.deepEqual(heard, []);
  });

  it('a down client closed on purpose no longer holds the outage open', () => {
    const c = new FakeClient();
    const stop = follow(c, 'sub');
    c.drop();
    clock.advance(7);
    stop();
    assert.deepEqual(heard, ['lost closed', 'restored 7']);
  });
});
