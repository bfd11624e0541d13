#!/usr/bin/env node
// Gets a fresh clone ready to run: dependencies, a redis-server, libfaketime (pods with a skewed
// clock in tests and chaos), an up-to-date build.
// Runs as `pretest`, `predemo`, `prebench`, `prechaos`, before anything is installed, so it is
// plain CommonJS with no dependencies. Reuse from another script: `require('./setup').setup()`.
'use strict';

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const log = (msg) => console.log(`setup: ${msg}`);

/** Runs a command in the repo root with inherited stdio; exits with its code if it fails. */
function run(cmd, args, env = process.env) {
  log(`$ ${[cmd, ...args].join(' ')}`);
  const res = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env });
  if (res.error) throw res.error;
  if (res.status !== 0) {
    console.error(`setup: \`${cmd} ${args.join(' ')}\` failed (exit ${res.status ?? res.signal})`);
    process.exit(res.status || 1);
  }
}

/** True when an executable `name` is on PATH. */
function onPath(name) {
  return (process.env.PATH || '').split(path.delimiter).some((dir) => {
    if (!dir) return false;
    try {
      fs.accessSync(path.join(dir, name), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function ensureDependencies() {
  if (fs.existsSync(path.join(root, 'node_modules'))) return;
  const hasLock = fs.existsSync(path.join(root, 'package-lock.json'));
  log('node_modules is missing, installing dependencies');
  run('npm', [hasLock ? 'ci' : 'install']);
}

let aptUpdated = false;

/** Installs a Debian package with apt-get when running as root; false when it can't. */
function aptInstall(pkg, why) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !onPath('apt-get')) return false;
  log(`${why}, installing ${pkg} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) run('apt-get', ['update', '-qq'], env);
  aptUpdated = true;
  run('apt-get', ['install', '-y', '-qq', pkg], env);
  return true;
}

function ensureRedis() {
  if (process.env.REDIS_URL) return log(`using REDIS_URL=${process.env.REDIS_URL}`);
  if (onPath('redis-server')) return;
  if (aptInstall('redis-server', 'redis-server is missing')) return;
  console.error(
    [
      'setup: redis-server is not installed and REDIS_URL is not set. Either:',
      '  - install it: `sudo apt-get install -y redis-server` (Debian/Ubuntu),',
      '    `brew install redis` (macOS), or any Redis >= 6.2 with redis-server on PATH; or',
      '  - point the tests at a running Redis: REDIS_URL=redis://127.0.0.1:6379 npm test',
    ].join('\n'),
  );
  process.exit(1);
}

/**
 * libfaketime, for the pods the tests and chaos start with a skewed clock (support/faketime.ts
 * finds the library; LIBFAKETIME overrides). Required by `npm test` and `npm run chaos`: a
 * missing one is a failure there, never a skip; the demo and the benchmarks don't need it.
 */
function ensureFaketime() {
  if (process.env.LIBFAKETIME || onPath('faketime')) return;
  if (aptInstall('faketime', 'libfaketime is missing')) return;
  const needed = !['predemo', 'prebench'].includes(process.env.npm_lifecycle_event);
  console.error(
    [
      `setup: libfaketime is not installed${needed ? '' : ' (needed only by tests and chaos)'}.`,
      '  - install it: `sudo apt-get install -y faketime` (Debian/Ubuntu; it brings libfaketime),',
      '    or build https://github.com/wolfcw/libfaketime and set LIBFAKETIME to its',
      '    libfaketime.so.1 (Linux only: the tests preload it with LD_PRELOAD).',
    ].join('\n'),
  );
  if (needed) process.exit(1);
}

/** Newest mtime (ms) among files under `dir`, recursively; skips node_modules and dotfolders. */
function newestMtime(dir, filter = () => true) {
  let newest = 0;
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0; // a folder that doesn't exist (yet) has nothing newer
  }
  for (const entry of entries) {
    const abs = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
      newest = Math.max(newest, newestMtime(abs, filter));
    } else if (entry.isFile() && filter(entry.name)) {
      newest = Math.max(newest, fs.statSync(abs).mtimeMs);
    }
  }
  return newest;
}

function mtime(file) {
  return fs.existsSync(file) ? fs.statSync(file).mtimeMs : 0;
}

function ensureBuild() {
  // build/.build-stamp is written by scripts/copy-assets.js, the last step of a successful build.
  const stamp = path.join(root, 'build', '.build-stamp');
  const built = mtime(stamp);
  const sources = Math.max(
    ...['src', 'test', 'bench', 'examples', 'chaos', 'support'].map((d) =>
      newestMtime(path.join(root, d)),
    ),
    newestMtime(path.join(root, 'scripts'), (name) => name.endsWith('.ts')),
    ...['tsconfig.json', 'tsconfig.build.json'].map((f) => mtime(path.join(root, f))),
  );
  if (built === 0) log('no complete build yet, building');
  else if (sources > built) log('sources changed since the last build, rebuilding');
  else return;
  run('npm', ['run', 'build']);
}

function setup() {
  ensureDependencies();
  ensureRedis();
  ensureFaketime();
  ensureBuild();
  log('ready');
}

module.exports = { setup };

if (require.main === module) setup();
