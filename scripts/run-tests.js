#!/usr/bin/env node
// `npm test [-- <filter>... <node --test flag>...]`, run after `pretest` (scripts/setup.js).
//
// - Finds every compiled test file, build/test/**/*.test.js (Node 20's --test wants paths).
//   Plain arguments are filters: a file runs if its path contains any of them
//   (`npm test -- unit multi-pod`). Arguments starting with `-` go to `node --test`
//   (`npm test -- --test-name-pattern=ordering`).
// - Files run one at a time (--test-concurrency=1): 2-core machines, multi-pod tests spawn
//   processes. Order: unit, integration, conformance, multi-pod, e2e, then anything else.
// - Each file must finish within TEST_TIMEOUT_MS (default 5 min), except in the folders of
//   SLOW_FOLDERS, which get their own `node --test` run with a longer limit.
// - Without REDIS_URL it starts a redis-server on a free loopback port (build/scripts/
//   local-redis.js) for the whole run and stops it at the end. No Redis means failure, never skip.
'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const testRoot = path.join(root, 'build', 'test');
const ORDER = ['unit', 'integration', 'conformance', 'multi-pod', 'e2e'];
const TEST_TIMEOUT_MS = Number(process.env.TEST_TIMEOUT_MS || 300_000);
/**
 * Per-file time limits above TEST_TIMEOUT_MS, by top folder under build/test/. `package` packs
 * the library and installs and compiles five apps: ~1.5 min on two idle cores, over 5 on busy
 * ones. `chaos` runs every fault scenario in short form: ~4 min on two idle cores.
 */
const SLOW_FOLDERS = { package: 15 * 60_000, chaos: 15 * 60_000 };

function findTests(dir) {
  if (!fs.existsSync(dir)) return [];
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const abs = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...findTests(abs));
    else if (entry.isFile() && entry.name.endsWith('.test.js')) out.push(abs);
  }
  return out;
}

function topFolder(file) {
  return path.relative(testRoot, file).split(path.sep)[0];
}

function rank(file) {
  const i = ORDER.indexOf(topFolder(file));
  return i === -1 ? ORDER.length : i;
}

function timeoutOf(file) {
  return Math.max(TEST_TIMEOUT_MS, SLOW_FOLDERS[topFolder(file)] ?? 0);
}

/** Consecutive files with the same time limit, in order: one `node --test` run each. */
function runsOf(files) {
  const runs = [];
  for (const file of files) {
    const timeoutMs = timeoutOf(file);
    const last = runs[runs.length - 1];
    if (last && last.timeoutMs === timeoutMs) last.files.push(file);
    else runs.push({ timeoutMs, files: [file] });
  }
  return runs;
}

/** Set on Ctrl-C / CI cancel: no further `node --test` run starts. */
let interrupted = false;

/**
 * Failed tests seen in the TAP output of every run: each `not ok` line with its YAML block
 * (error, location, stack), printed again once all runs are over, so that a CI log that keeps
 * only its last screens still says what failed. Suites failing only because a subtest did are
 * named without their block.
 */
const failures = [];

/** Copies a runner's TAP output through, keeping each failed test's block for the summary. */
function watchFailures(stream, file) {
  let pending = '';
  let current = null;
  stream.on('data', (chunk) => {
    process.stdout.write(chunk);
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop();
    for (const line of lines) {
      if (current) {
        // The first lines of a stack say where; the runner's own frames below them do not.
        if (/^\s*stack: \|-$/.test(line)) current.stackLines = 0;
        else if (current.stackLines !== undefined) current.stackLines += 1;
        if (current.stackLines === undefined || current.stackLines <= 6 || /^\s*\.\.\.$/.test(line))
          current.lines.push(line);
        if (/^\s*\.\.\.$/.test(line) || current.lines.length > 80) current = null;
      } else if (/^\s*not ok \d+/.test(line)) {
        current = { run: file, lines: [line] };
        failures.push(current);
      }
    }
  });
}

function printFailures() {
  if (failures.length === 0) return;
  console.log(`\nrun-tests: ${failures.length} test(s) or suite(s) failed:`);
  for (const f of failures) {
    const onlySubtests = f.lines.some((l) => l.includes("failureType: 'subtestsFailed'"));
    const shown = onlySubtests ? f.lines.slice(0, 1) : f.lines;
    console.log(`# (run of ${f.run} ...)`);
    for (const l of shown) console.log(l);
  }
}

/** One `node --test` run; resolves with its exit code. */
async function runNodeTest(files, timeoutMs, nodeFlags, env) {
  const nodeArgs = [
    '--enable-source-maps',
    '--test',
    '--test-concurrency=1',
    `--test-timeout=${timeoutMs}`,
    ...nodeFlags,
    ...files.map((f) => path.relative(root, f)),
  ];
  console.log(
    `run-tests: ${files.length} file(s): node ${nodeArgs.slice(0, 4 + nodeFlags.length).join(' ')} ...`,
  );
  const child = spawn(process.execPath, nodeArgs, {
    cwd: root,
    env,
    stdio: ['inherit', 'pipe', 'inherit'],
  });
  watchFailures(child.stdout, path.relative(root, files[0]));

  // Ctrl-C / CI cancel: the runner gets the signal from the terminal or we forward it; Redis is
  // stopped in `finally` once the runner has exited.
  const forward = (sig) => {
    interrupted = true;
    child.kill(sig);
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  try {
    return await new Promise((resolve) => {
      child.on('close', (status, signal) => resolve(status ?? (signal ? 1 : 0)));
      child.on('error', (err) => {
        console.error(err);
        resolve(1);
      });
    });
  } finally {
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
  }
}

async function main() {
  const args = process.argv.slice(2);
  const filters = args.filter((a) => !a.startsWith('-'));
  const nodeFlags = args.filter((a) => a.startsWith('-'));

  const all = findTests(testRoot);
  if (all.length === 0) {
    console.error(
      `run-tests: no compiled tests under ${path.relative(root, testRoot)}/; run \`npm run build\``,
    );
    return 1;
  }
  const files = all
    .filter((f) => filters.length === 0 || filters.some((s) => path.relative(root, f).includes(s)))
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  if (files.length === 0) {
    console.error(`run-tests: no test file path contains any of: ${filters.join(', ')}`);
    return 1;
  }

  let redis;
  const env = { ...process.env };
  if (!env.REDIS_URL) {
    // Throws (-> exit 1) with an install hint if redis-server is missing.
    const { startLocalRedis } = require(path.join(root, 'build', 'scripts', 'local-redis.js'));
    redis = await startLocalRedis();
    env.REDIS_URL = redis.url;
    console.log(`run-tests: started redis-server pid ${redis.pid} at ${redis.url}`);
  } else {
    console.log(`run-tests: using REDIS_URL=${env.REDIS_URL}`);
  }

  const stopRedis = async () => {
    if (!redis) return;
    const r = redis;
    redis = undefined;
    await r.stop();
  };

  try {
    // Every run goes ahead, whatever the one before did; the first failure's code is returned.
    let code = 0;
    for (const run of runsOf(files)) {
      if (interrupted) break;
      const status = await runNodeTest(run.files, run.timeoutMs, nodeFlags, env);
      if (code === 0) code = status;
    }
    printFailures();
    return code;
  } finally {
    await stopRedis();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`run-tests: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  },
);
