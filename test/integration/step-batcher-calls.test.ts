/**
 * A pod sends the steps its runners make in one turn of the event loop as one step-4.lua call,
 * bounded so that a call holds Redis for about a millisecond at most (StepBatcher): a step weighs
 * the jobs it finishes and half of those it may take (taking a job costs Redis about half of
 * finishing one). The steps of several entities taking a full batch (`batchSize` 64) must share
 * a call; a step that finishes a half batch and takes the next fills one alone.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyBuilder } from '../../src/redis/keys';
import { defineScripts } from '../../src/redis/script-loader';
import type { EntityStep } from '../../src/redis/scripts/step';
import { StepBatcher } from '../../src/core/running/step-batcher';
import { integrationSuite } from '../fixtures/integration-suite';

const TTL_MS = 30_000;

describe('the steps of one turn', () => {
  const { prefix, redis } = integrationSuite('stepBatcherCalls');
  defineScripts(redis);
  const stepCommand = Object.keys(redis).find((k) => k.startsWith('aq_step_'));
  let n = 0;

  /** A step of a new entity (its lease is free: the step takes it), finishing nothing. */
  const stepOf = (take: number): EntityStep => {
    const keys = new KeyBuilder(prefix).entityKeys(`e${(n += 1)}`);
    return {
      keys,
      slot: 0,
      guard: { leaseKey: keys.lease, token: 'token', fence: '1', podId: 'pod', ttlMs: TTL_MS },
      keepCompleted: [-1, '', 1000],
      keepFailed: [-1, '', 1000],
      eventsMaxLen: 0,
      finished: [],
      giveBack: [],
      pause: false,
      take,
    };
  };

  /**
   * Submits `steps` in one turn; resolves with how many entities each call carried. A step whose
   * jobs are not active is refused (its result an error): only the calls count here.
   */
  const callsFor = async (steps: EntityStep[]): Promise<number[]> => {
    assert.ok(stepCommand, 'the step script is defined on the client');
    const client = redis as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const original = client[stepCommand];
    const calls: number[] = [];
    client[stepCommand] = function (this: unknown, ...args: unknown[]) {
      calls.push(args[0] as number); // the number of keys: one per entity
      return original.apply(this, args);
    };
    try {
      const batcher = new StepBatcher({
        redis,
        podId: 'pod',
        leaseTtlMs: TTL_MS,
        replyChannelPrefix: `${prefix}:reply:`,
      });
      await Promise.all(steps.map((s) => batcher.submit(s)));
    } finally {
      client[stepCommand] = original;
    }
    return calls;
  };

  it('share a call when each takes a full batch of 64', async () => {
    assert.deepEqual(await callsFor([64, 64, 64, 64, 64].map(stepOf)), [2, 2, 1]);
  });

  it('share a call by eights when each takes 16', async () => {
    assert.deepEqual(await callsFor(Array.from({ length: 10 }, () => stepOf(16))), [8, 2]);
  });

  it('fill a call up to the bound, not past it', async () => {
    const finished = Array.from({ length: 40 }, (_, i) => ({
      jobId: `missing-${i}`,
      status: 'completed' as const,
      value: 'null',
      attempts: 1,
    }));
    // 8 + (40 + 16) = 64: one call; the next step's 8 goes in another.
    const heavy = { ...stepOf(32), finished };
    assert.deepEqual(await callsFor([stepOf(16), heavy, stepOf(16)]), [2, 1]);
  });
});
