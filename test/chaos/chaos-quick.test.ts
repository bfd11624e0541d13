/**
 * The chaos suite, short version (`npm run chaos -- --quick`), inside `npm test`: every fault
 * scenario on real pod processes with its own redis-server, checked against the SQLite oracle.
 * Asserts the requirements from the JSON report, per scenario: lost = 0, overlaps = 0,
 * orderInversions = 0 where order applies, drift = 0, and every scenario check.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { SCENARIOS } from '../../chaos/suite';

const CLI = path.resolve(__dirname, '..', '..', 'chaos', 'cli.js');

interface ScenarioReport {
  name: string;
  ok: boolean;
  accepted: number;
  lost: number;
  overlaps: number | null;
  orderInversions: number | null;
  drift: number;
  checks: { name: string; ok: boolean; detail: string; soft?: boolean }[];
}

test(
  'chaos suite, quick: every requirement holds in every scenario',
  { timeout: 870_000 },
  async (t) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'aq-chaos-test-'));
    const json = path.join(dir, 'chaos.json');
    try {
      let output = '';
      const child = spawn(
        process.execPath,
        ['--enable-source-maps', CLI, '--quick', '--json', json],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      // The test runner ends this file with SIGTERM when it runs out of time: the chaos run must
      // go too (on SIGTERM it stops every process it started), not run on as an orphan.
      const stopRun = (): void => {
        child.kill('SIGTERM');
        rmSync(dir, { recursive: true, force: true });
        process.exit(143);
      };
      process.once('SIGTERM', stopRun);
      const code = await new Promise<number>((resolve, reject) => {
        child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
        child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
        child.on('error', reject);
        child.on('exit', (status, signal) => resolve(status ?? (signal ? 128 : 1)));
      }).finally(() => process.off('SIGTERM', stopRun));
      for (const line of output.trimEnd().split('\n').slice(-16)) t.diagnostic(line);

      let text: string;
      try {
        text = readFileSync(json, 'utf8');
      } catch {
        assert.fail(
          `npm run chaos -- --quick wrote no report (exit ${code}):\n${output.slice(-3000)}`,
        );
      }
      const report = JSON.parse(text) as {
        scenarios: ScenarioReport[];
        commit: string;
        machine: unknown;
        params: unknown;
      };
      assert.ok(report.commit && report.machine && report.params, 'commit, machine and params');
      assert.deepEqual(
        report.scenarios.map((s) => s.name),
        SCENARIOS.map((s) => s.name),
        'every scenario of the suite, in order',
      );
      const problems: string[] = [];
      for (const s of report.scenarios) {
        const fail = (what: string): number => problems.push(`${s.name}: ${what}`);
        if (!(s.accepted > 0)) fail('nothing accepted');
        if (s.lost !== 0) fail(`lost = ${s.lost}`);
        if (s.overlaps !== 0 && !(s.overlaps === null && s.name === 'bad-input'))
          fail(`overlaps = ${s.overlaps}`);
        if (s.orderInversions !== null && s.orderInversions !== 0)
          fail(`orderInversions = ${s.orderInversions}`);
        if (s.drift !== 0) fail(`drift = ${s.drift}`);
        for (const c of s.checks)
          if (!c.ok && !c.soft) fail(`${c.name}: ${c.detail.slice(0, 300)}`);
      }
      assert.deepEqual(
        problems,
        [],
        `requirements failed:\n${problems.join('\n')}\n\n${output.slice(-3000)}`,
      );
      assert.equal(code, 0, `npm run chaos -- --quick exited ${code}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
