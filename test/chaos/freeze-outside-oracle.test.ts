/**
 * The chaos driver's SIGSTOP of a pod must not land inside one of the pod's oracle transactions:
 * the stopped pod would hold the oracle's write lock, and the driver (waiting on that lock before
 * it sends SIGCONT) would wait for itself. A CI run of the quick suite failed that way once.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freezeOutsideOracle } from '../../chaos/harness';
import { DriverOracle } from '../../chaos/oracle';
import { ChildHandle } from '../../chaos/procs';
import { sleep } from '../../support/async';

describe('stopping a pod for the chaos suite', () => {
  let dir: string;
  let oracle: DriverOracle;
  let writer: ChildHandle;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'aq-freeze-'));
    oracle = new DriverOracle(path.join(dir, 'oracle.db'));
    writer = new ChildHandle(
      'writer',
      path.join(__dirname, 'oracle-writer.js'),
      [oracle.file],
      path.join(dir, 'writer.log'),
    );
    await writer.waitFor((m) => (m === 'writing' ? true : undefined), 20_000);
  });

  after(async () => {
    await writer.kill();
    oracle.db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a plain SIGSTOP of a busy writer can leave the write lock held', async () => {
    let held = 0;
    for (let i = 0; i < 20 && held === 0; i++) {
      writer.signal('SIGSTOP');
      if (!(await oracle.canWrite(100))) held += 1;
      writer.signal('SIGCONT');
      await sleep(5 + Math.random() * 10);
    }
    assert.ok(held > 0, 'no plain SIGSTOP in 20 landed inside a transaction');
  });

  it('freezeOutsideOracle stops it with the lock free, every time', async () => {
    for (let i = 0; i < 20; i++) {
      await freezeOutsideOracle(oracle, writer);
      try {
        assert.equal(await oracle.canWrite(100), true, `stop ${i}: the write lock is held`);
      } finally {
        writer.signal('SIGCONT');
      }
      await sleep(5 + Math.random() * 10);
    }
  });
});
