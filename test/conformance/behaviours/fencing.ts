/**
 * G1: every job carries its entity's fencing token, the same for the jobs of one holding, and
 * larger at each new holding (after an idle release) than any before it.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Job } from 'bullmq';
import type { JobContext } from '../../../src';
import { TYPE, type Behaviour } from '../backend';

export const fencing: Behaviour = (backend) => {
  it('hands each job its fencing token, larger at every new holding', async (t) => {
    const tokens: number[] = [];
    const h = await backend.open(t, {
      entities: { [TYPE]: { idleTimeoutSeconds: 0.2 } },
      handler: (_job: Job, ctx: JobContext) => {
        tokens.push(ctx.fencingToken);
        return ctx.fencingToken;
      },
    });
    for (let holding = 1; holding <= 3; holding++) {
      await h.engine.enqueueBulk(
        [1, 2].map(() => ({ type: TYPE, entityId: 'e1', name: 'op', data: {} })),
      );
      await h.until(() => tokens.length === holding * 2, `the jobs of holding ${holding} ran`);
      await h.until(
        () => h.eventsOf('entity:released').length === holding,
        `the entity was released (idle) after holding ${holding}`,
      );
    }
    assert.equal(tokens[0], tokens[1], 'one token per holding');
    assert.equal(tokens[2], tokens[3]);
    assert.equal(tokens[4], tokens[5]);
    assert.ok(tokens[0] < tokens[2] && tokens[2] < tokens[4], `growing: ${tokens.join(', ')}`);
    assert.deepEqual(
      h.eventsOf('entity:claimed').map((e) => e.fencingToken),
      [tokens[0], tokens[2], tokens[4]],
      'entity:claimed carries each holding’s token',
    );
    assert.deepEqual(
      h.eventsOf('entity:released').map((e) => [e.fencingToken, e.reason]),
      [
        [tokens[0], 'released'],
        [tokens[2], 'released'],
        [tokens[4], 'released'],
      ],
    );
  });
};
