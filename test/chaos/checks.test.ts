/**
 * The chaos checkers on hand-made oracle rows: a checker that never fires proves nothing, so each
 * violation it must count is built here once.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { computeMetrics } from '../../chaos/checks';
import { DATA_LOSS, type AppliedRow, type ExecutionRow, type OracleDump } from '../../chaos/oracle';

let nextId = 1;
function exec(p: Partial<ExecutionRow> & { job_id: string; start: number }): ExecutionRow {
  const seq = Number(p.job_id.split('.').pop());
  return {
    id: nextId++,
    entity: 'e',
    type: 'stock',
    business_id: p.job_id,
    seq,
    pod: 'a',
    pid: 1,
    fence: 1,
    attempt: 1,
    end: p.start + 10,
    outcome: 'committed',
    detail: null,
    ...p,
  };
}

/** Rows for executions that committed, in the order given, and the matching enqueues. */
function world(
  executions: ExecutionRow[],
  opts: { initial?: number; stock?: number } = {},
): OracleDump {
  const committed = executions.filter((e) => e.outcome === 'committed');
  const applied: AppliedRow[] = committed.map((e, i) => ({
    commit_seq: i + 1,
    business_id: e.business_id,
    entity: e.entity,
    job_id: e.job_id,
    seq: e.seq,
    qty: 1,
    fence: e.fence,
    exec_id: e.id,
    at: e.end ?? e.start,
  }));
  const jobs = [...new Set(executions.map((e) => e.job_id))];
  const initial = opts.initial ?? 100;
  return {
    products: [{ id: 'e', initial, stock: opts.stock ?? initial - applied.length, fence: 1 }],
    applied,
    executions,
    enqueued: jobs.map((j) => ({
      job_id: j,
      business_id: j,
      type: 'stock',
      entity: 'e',
      seq: Number(j.split('.').pop()),
      qty: 1,
      expect: 'commit' as const,
      sent_at: 0,
      acked_at: 0,
    })),
    faults: [],
  };
}

describe('chaos checkers', () => {
  it('a clean history has no violations', () => {
    const m = computeMetrics(
      world([exec({ job_id: 'o.e.0', start: 0 }), exec({ job_id: 'o.e.1', start: 20 })]),
      { orderApplies: true },
    );
    assert.deepEqual(
      [m.accepted, m.executed, m.lost, m.overlaps, m.duplicateEffects, m.orderInversions, m.drift],
      [2, 2, 0, 0, 0, 0, 0],
    );
  });

  it('counts two committed executions of one entity at once as an overlap, a fenced one not', () => {
    const both = computeMetrics(
      world([
        exec({ job_id: 'o.e.0', start: 0, end: 50 }),
        exec({ job_id: 'o.e.1', start: 20, pid: 2 }),
      ]),
      { orderApplies: true },
    );
    assert.equal(both.overlaps, 1);
    const fenced = computeMetrics(
      world([
        exec({ job_id: 'o.e.0', start: 0, end: 50, outcome: 'fenced' }),
        exec({ job_id: 'o.e.0', start: 20, pid: 2, fence: 2 }),
      ]),
      { orderApplies: true },
    );
    assert.equal(fenced.overlaps, 0);
    assert.equal(fenced.fencedWrites, 1);
  });

  it('counts an accepted job never applied as lost', () => {
    const dump = world([
      exec({ job_id: 'o.e.0', start: 0 }),
      exec({ job_id: 'o.e.1', start: 20, outcome: 'running', end: null }),
    ]);
    const m = computeMetrics(dump, { orderApplies: true });
    assert.equal(m.lost, 1);
    assert.equal(m.executed, 1);
  });

  it('counts an effect applied twice, and the drift it leaves', () => {
    const dump = world([exec({ job_id: 'o.e.0', start: 0 })], { stock: 98 });
    dump.applied.push({ ...dump.applied[0], commit_seq: 2 });
    const m = computeMetrics(dump, { orderApplies: true });
    assert.equal(m.duplicateEffects, 1);
    assert.equal(m.drift, 0, 'the stock agrees with the (doubled) effects');
    const lostUpdate = computeMetrics(
      world([exec({ job_id: 'o.e.0', start: 0 }), exec({ job_id: 'o.e.1', start: 20 })], {
        stock: 99,
      }),
      { orderApplies: true },
    );
    assert.equal(lostUpdate.drift, 1, 'a lost update shows as drift');
    const negative = computeMetrics(world([], { initial: 0, stock: -1 }), { orderApplies: true });
    assert.equal(negative.drift, 2, 'drift of 1, plus 1 for a negative stock');
  });

  it('counts effects committed out of enqueue order, and executions started out of order', () => {
    const m = computeMetrics(
      world([exec({ job_id: 'o.e.1', start: 0 }), exec({ job_id: 'o.e.0', start: 20 })]),
      {
        orderApplies: true,
      },
    );
    assert.equal(m.orderInversions, 1);
    assert.equal(m.details.startOrderInversions, 1);
    assert.equal(computeMetrics(world([]), { orderApplies: false }).orderInversions, null);
  });

  it('counts jobs a data loss dropped apart from lost ones, and tokens that went back', () => {
    const dump = world([
      exec({ job_id: 'o.e.0', start: 0, fence: 500 }),
      exec({ job_id: 'o.e.1', start: 20, end: null, outcome: 'running', fence: 500 }),
      exec({ job_id: 'o.e.2', start: 300, fence: 400 }),
      exec({ job_id: 'o.e.3', start: 320, end: null, outcome: 'running', fence: 600 }),
    ]);
    const acked = [10, 30, 250, 310];
    dump.enqueued.forEach((e, i) => (e.acked_at = acked[i]));
    const loss = {
      id: 1,
      kind: DATA_LOSS,
      pod: 'redis',
      pid: 9,
      at: 100,
      until: 200,
      detail: null,
    };
    dump.faults.push(loss);
    const m = computeMetrics(dump, { orderApplies: true });
    assert.equal(m.details.droppedByDataLoss, 1, 'job 1, acknowledged before the loss');
    assert.equal(m.lost, 1, 'job 3, acknowledged after it');
    assert.equal(
      m.details.tokensWentBack,
      1,
      'job 2 ran after the loss with a smaller token than job 0',
    );
    dump.faults[0] = { ...loss, kind: 'redis-kill' };
    const kill = computeMetrics(dump, { orderApplies: true });
    assert.deepEqual(
      [kill.lost, kill.details.droppedByDataLoss, kill.details.tokensWentBack],
      [2, 0, 0],
    );
  });

  it('measures recovery from a fault to the next execution of the entities it interrupted', () => {
    const dump = world([
      exec({ job_id: 'o.e.0', start: 0, end: null, outcome: 'running', pid: 1 }),
      exec({ job_id: 'o.e.0', start: 1500, pid: 2, fence: 2 }),
    ]);
    dump.faults.push({ id: 1, kind: 'kill', pod: 'a', pid: 1, at: 100, until: null, detail: null });
    const m = computeMetrics(dump, { orderApplies: true });
    assert.equal(m.recoveryMsP50, 1400);
    assert.equal(m.recoveryMsP99, 1400);
  });
});
