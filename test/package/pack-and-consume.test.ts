/**
 * The package as a user gets it: `npm pack` (which runs `prepack`), installed from the tarball
 * into fresh apps with their own ioredis and NestJS, type-checked as strictly as an app can be
 * (`strict`, `skipLibCheck: false`, so our declarations are checked against the app's ioredis
 * and NestJS) by the registry's latest TypeScript and by ours (5.9), then run against the test
 * Redis: a Nest app and a plain engine script, each on the app's own ioredis client.
 *
 * - The app: test/package/consumer/ (its own tsconfig; the repository's build leaves it out).
 * - Files that must not compile: consumer/compile-fail/*.ts. The line after a
 *   `// @expect-error TS<code>` comment must fail with exactly that code, and nothing else may
 *   fail: unlike `@ts-expect-error`, an error for another reason doesn't pass. Among them
 *   (inferred-types.ts): a command's declared result assigned to a wrong type, an object literal
 *   as a command, a handler's job data used as another type. test/types/ has the full set,
 *   checked against src/ in seconds by test/unit/type-checks.test.ts.
 * - Entry points: every subpath of the packed `exports` map is imported and run, and must export
 *   what its module in build/src exports: a new entry (`atomic-queues/testing`) is covered as
 *   soon as package.json exports it.
 * - npm's cache is .tmp/package-test/npm-cache, shared by the variants and kept between runs
 *   (CI can cache it too). The apps live in a temporary folder, left in place if a test fails.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cleanPrefix, newRedis, redisUrl, uniquePrefix } from '../helpers/redis';

const root = path.resolve(__dirname, '..', '..', '..');
const fixture = path.join(root, 'test', 'package', 'consumer');
const npmCache = path.join(root, '.tmp', 'package-test', 'npm-cache');
const ourTsc = path.join(root, 'node_modules', '.bin', 'tsc');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  name: string;
  peerDependencies: Record<string, string>;
  dependencies: Record<string, string>;
};

/** The lowest version a range such as `^5.0.4 || ^6.0.0` accepts. */
function floor(range: string): string {
  const min = /^\^?(\d+\.\d+\.\d+)/.exec(range)?.[1];
  if (!min) throw new Error(`No lowest version in the range ${range}`);
  return min;
}

interface Variant {
  name: string;
  dependencies: Record<string, string>;
  /**
   * Also type-check with our TypeScript (5.9), not only the latest: on the newest dependencies,
   * whose declarations are the likeliest to need a newer compiler. It costs ~14 s of CPU an app.
   */
  withOurTypeScript?: boolean;
  /** Installs @nestjs/cqrs (an optional peer) and runs consumer/optional/cqrs-app.ts. */
  cqrs?: string;
}

const common = {
  bullmq: pkg.dependencies.bullmq,
  'reflect-metadata': '^0.2.0',
  rxjs: '^7.8.0',
  '@types/node': `^${process.versions.node.split('.')[0]}`,
  // ioredis's declarations import `redis-errors`, which has no types of its own.
  '@types/redis-errors': '^1.2.0',
};
const nest = (range: string) => ({ '@nestjs/common': range, '@nestjs/core': range });
const latest = (ioredis: number, nestjs: number, cqrs = false): Variant => ({
  name: `ioredis ${ioredis}, NestJS ${nestjs}${cqrs ? ' with CQRS' : ''}`,
  dependencies: { ...common, ioredis: `^${ioredis}`, ...nest(`^${nestjs}`) },
  cqrs: cqrs ? `^${nestjs}` : undefined,
});
const VARIANTS: Variant[] = [
  latest(5, 11, true),
  latest(5, 12),
  latest(6, 11),
  { ...latest(6, 12, true), withOurTypeScript: true },
  {
    // The oldest versions package.json says we support. rxjs stays at its latest 7: before
    // 7.2 its package has no types under `nodenext` resolution, which NestJS itself needs.
    name: 'lowest supported: ioredis, NestJS, @nestjs/cqrs, BullMQ, reflect-metadata',
    dependencies: {
      ...common,
      bullmq: floor(pkg.dependencies.bullmq),
      ioredis: floor(pkg.peerDependencies.ioredis),
      ...nest(floor(pkg.peerDependencies['@nestjs/core'])),
      'reflect-metadata': floor(pkg.peerDependencies['reflect-metadata']),
    },
    cqrs: floor(pkg.peerDependencies['@nestjs/cqrs']),
  },
];

/** The scripts a variant's app runs, with what each must report besides its connections. */
function scripts(variant: Variant): [string, Record<string, unknown>][] {
  return [
    ['nest-app', { results: [2, 5] }],
    ['engine-script', { result: { product: 'sku-42', reserved: 2 } }],
    ...(variant.cqrs
      ? [['cqrs-app', { results: [2, 5] }] as [string, Record<string, unknown>]]
      : []),
  ];
}

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The environment without the `npm_*` variables `npm test` sets, so nested npm runs are clean. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')),
  );
  return { ...env, ...extra };
}

/**
 * At most one child process per core at a time: the apps are set up in parallel, and a dozen
 * compilers and installs at once on two busy cores only slow every one of them down.
 */
const slots = { free: Math.max(2, os.availableParallelism()), waiting: [] as (() => void)[] };
async function withSlot<T>(fn: () => Promise<T>): Promise<T> {
  if (slots.free > 0) slots.free -= 1;
  else await new Promise<void>((resolve) => slots.waiting.push(resolve));
  try {
    return await fn();
  } finally {
    const next = slots.waiting.shift();
    if (next) next();
    else slots.free += 1;
  }
}

function exec(
  cmd: string,
  args: string[],
  opts: { cwd: string; env?: Record<string, string>; timeoutMs?: number },
): Promise<Outcome> {
  return withSlot(
    () =>
      new Promise((resolve, reject) => {
        const child = spawn(cmd, args, { cwd: opts.cwd, env: cleanEnv(opts.env) });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 300_000);
        child.on('error', reject);
        child.on('close', (code, signal) => {
          clearTimeout(timer);
          resolve({ code, signal, stdout, stderr });
        });
      }),
  );
}

/** Runs a command that must succeed; the error shows its output. */
async function mustRun(cmd: string, args: string[], cwd: string): Promise<string> {
  const out = await exec(cmd, args, { cwd });
  if (out.code !== 0) {
    throw new Error(`\`${cmd} ${args.join(' ')}\` in ${cwd} exited ${out.code}:
${out.stdout}${out.stderr}`);
  }
  return out.stdout;
}

function npmInstall(cwd: string, specs: string[] = []): Promise<string> {
  return mustRun(
    'npm',
    ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--cache', npmCache, ...specs],
    cwd,
  );
}

interface TscError {
  file: string;
  line: number;
  code: string;
  text: string;
}

/** Errors in `tsc --pretty false` output; one without a location has file '' and line 0. */
function tscErrors(output: string): TscError[] {
  const errors: TscError[] = [];
  for (const line of output.split('\n')) {
    const located = /^(.+?)\((\d+),\d+\): error (TS\d+): (.*)$/.exec(line);
    const global = /^error (TS\d+): (.*)$/.exec(line);
    if (located) {
      const [, file, at, code, text] = located;
      errors.push({ file: file.split(path.sep).join('/'), line: Number(at), code, text });
    } else if (global) {
      errors.push({ file: '', line: 0, code: global[1], text: global[2] });
    }
  }
  return errors;
}

/**
 * The errors of a `tsc` run that finished: exit 0 (none), 1 or 2 (errors found). A compiler
 * that crashed or was killed fails the test instead of passing for one that found nothing.
 */
function compilerErrors(out: Outcome, compiler: string): TscError[] {
  const errors = tscErrors(out.stdout);
  const finished = out.code === 0 || ((out.code === 1 || out.code === 2) && errors.length > 0);
  assert.ok(
    finished,
    `${compiler} TypeScript did not finish: exit ${out.code}, signal ${out.signal}\n` +
      `${out.stdout}${out.stderr}`,
  );
  return errors;
}

/** `file:line code` for every line after a `// @expect-error TS<code>` marker. */
function expectedErrors(dir: string): string[] {
  const expected: string[] = [];
  for (const name of fs.readdirSync(path.join(dir, 'compile-fail')).sort()) {
    const lines = fs.readFileSync(path.join(dir, 'compile-fail', name), 'utf8').split('\n');
    lines.forEach((text, i) => {
      const code = /^\s*\/\/ @expect-error (TS\d+)\s*$/.exec(text)?.[1];
      if (code) expected.push(`compile-fail/${name}:${i + 2} ${code}`);
    });
  }
  return expected;
}

/** The object a consumer script printed on its `RESULT ` line. */
function result(out: Outcome): Record<string, unknown> {
  const line = out.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  assert.ok(line && out.code === 0, `exit ${out.code}, no result:\n${out.stdout}${out.stderr}`);
  return JSON.parse(line.slice('RESULT '.length)) as Record<string, unknown>;
}

/** The packed package.json's `exports` subpaths that are modules (not ./package.json). */
function moduleEntries(exportsMap: Record<string, unknown>): string[] {
  return Object.keys(exportsMap).filter((k) => !k.endsWith('.json'));
}

interface Installed {
  dir: string;
  versions: Record<string, string>;
  /** The type-check of each compiler, the files that must fail included. */
  checks: { latest: Outcome; ours?: Outcome };
}

/**
 * Packing, installing and compiling five apps takes about 1.5 min on two idle cores, and over
 * 5 on busy ones (scripts/run-tests.js gives this folder as long).
 */
const SETUP_TIMEOUT_MS = 15 * 60_000;

describe('the packed package in a fresh app', { timeout: SETUP_TIMEOUT_MS }, () => {
  let work: string;
  let tarball: string;
  let packed: { files: { path: string }[] };
  let latestTsc: string;
  let latestTsVersion: string;
  let exportsMap: Record<string, unknown>;
  const installed = new Map<string, Installed>();
  let failed = false;

  /** Sets up one app: install, the generated entry-point script, both compilers. */
  async function setUp(variant: Variant, index: number): Promise<Installed> {
    const dir = path.join(work, `app-${index}`);
    fs.cpSync(fixture, dir, { recursive: true });
    const dependencies: Record<string, string> = { ...variant.dependencies };
    if (variant.cqrs) {
      dependencies['@nestjs/cqrs'] = variant.cqrs;
      fs.copyFileSync(
        path.join(fixture, 'optional', 'cqrs-app.ts'),
        path.join(dir, 'src', 'cqrs-app.ts'),
      );
    }
    fs.writeFileSync(
      path.join(dir, 'package.json'),
      `${JSON.stringify(
        {
          name: `consumer-${index}`,
          private: true,
          dependencies: { [pkg.name]: `file:${tarball}`, ...dependencies },
        },
        null,
        2,
      )}\n`,
    );
    const entries = moduleEntries(exportsMap);
    fs.writeFileSync(
      path.join(dir, 'src', 'entry-points.ts'),
      [
        '// Written by pack-and-consume.test.ts: every module entry of the exports map.',
        "import { report } from './environment';",
        ...entries.map((e, i) => `import * as entry${i} from '${path.posix.join(pkg.name, e)}';`),
        `report({ ${entries.map((e, i) => `'${e}': Object.keys(entry${i}).sort()`).join(', ')} });`,
        '',
      ].join('\n'),
    );
    await npmInstall(dir);
    const versions = Object.fromEntries(
      ['ioredis', '@nestjs/core', '@nestjs/cqrs', 'bullmq', 'reflect-metadata']
        .filter((name) => fs.existsSync(path.join(dir, 'node_modules', name)))
        .map((name) => [
          name,
          (
            JSON.parse(
              fs.readFileSync(path.join(dir, 'node_modules', name, 'package.json'), 'utf8'),
            ) as { version: string }
          ).version,
        ]),
    );
    // The latest TypeScript also emits the scripts the tests run (to out/src/).
    const check = ['-p', 'tsconfig.compile-fail.json', '--pretty', 'false'];
    const [latest, ours] = await Promise.all([
      exec(latestTsc, check, { cwd: dir }),
      variant.withOurTypeScript ? exec(ourTsc, [...check, '--noEmit'], { cwd: dir }) : undefined,
    ]);
    return { dir, versions, checks: { latest, ours } };
  }

  before(
    async () => {
      try {
        await prepare();
      } catch (err) {
        failed = true;
        throw err;
      }
    },
    { timeout: SETUP_TIMEOUT_MS },
  );

  /** Packs, installs the latest TypeScript and every app, compiles them. */
  async function prepare(): Promise<void> {
    redisUrl(); // fails now, not after the installs, without a Redis
    const started = Date.now();
    const seconds = () => `${Math.round((Date.now() - started) / 1000)}s`;
    fs.mkdirSync(npmCache, { recursive: true });
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'aq-package-test-'));
    const tools = path.join(work, 'typescript-latest');
    fs.mkdirSync(tools);
    fs.writeFileSync(path.join(tools, 'package.json'), '{ "private": true }\n');

    const [packOut] = await Promise.all([
      mustRun('npm', ['pack', '--json', '--pack-destination', work], root),
      npmInstall(tools, ['typescript@latest']),
    ]);
    // prepack's own output comes first; npm's JSON report is the rest.
    const report = JSON.parse(packOut.slice(packOut.search(/^\[/m))) as {
      filename: string;
      files: { path: string }[];
    }[];
    packed = report[0];
    tarball = path.join(work, report[0].filename);
    latestTsc = path.join(tools, 'node_modules', '.bin', 'tsc');
    latestTsVersion = (await mustRun(latestTsc, ['--version'], tools)).trim();
    console.log(`pack-and-consume: packed, ${latestTsVersion} installed: ${seconds()}`);
    exportsMap = (
      JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
        exports: Record<string, unknown>;
      }
    ).exports;

    const apps = await Promise.all(VARIANTS.map((v, i) => setUp(v, i)));
    VARIANTS.forEach((v, i) => installed.set(v.name, apps[i]));
    console.log(`pack-and-consume: ${VARIANTS.length} apps installed, compiled: ${seconds()}`);
  }

  after(() => {
    if (work && !failed) fs.rmSync(work, { recursive: true, force: true });
    else if (work) console.log(`pack-and-consume: apps kept for inspection in ${work}`);
  });

  /** `it`, remembering a failure so that the apps are kept. */
  function check(name: string, fn: () => Promise<void> | void): void {
    it(name, async () => {
      try {
        await fn();
      } catch (err) {
        failed = true;
        throw err;
      }
    });
  }

  check(
    'packs dist only, with the Lua scripts, maps that carry their sources, no .d.ts maps',
    () => {
      const files = packed.files.map((f) => f.path).sort();
      const outside = files.filter(
        (f) => !f.startsWith('dist/') && !/^(package\.json|README\.md|LICENSE[^/]*)$/.test(f),
      );
      assert.deepEqual(outside, [], 'only dist/, package.json, README and LICENSE are shipped');
      for (const f of ['dist/index.js', 'dist/index.d.ts', 'README.md', 'package.json'])
        assert.ok(files.includes(f), `${f} is shipped`);

      const luaDir = path.join(root, 'src', 'redis', 'lua');
      const lua = (fs.readdirSync(luaDir, { recursive: true }) as string[])
        .filter((f) => f.endsWith('.lua'))
        .map((f) => `dist/redis/lua/${f.split(path.sep).join('/')}`);
      assert.ok(lua.length > 0);
      assert.deepEqual(
        lua.filter((f) => !files.includes(f)),
        [],
        'every Lua script is shipped',
      );

      assert.deepEqual(
        files.filter((f) => f.endsWith('.d.ts.map')),
        [],
        'no declaration maps: they would point at src/, which is not shipped',
      );
      const maps = files.filter((f) => f.endsWith('.js.map'));
      assert.ok(maps.length > 0);
      const unpacked = path.join(installed.get(VARIANTS[0].name)!.dir, 'node_modules', pkg.name);
      for (const map of maps) {
        const m = JSON.parse(fs.readFileSync(path.join(unpacked, map), 'utf8')) as {
          sources: string[];
          sourcesContent?: (string | null)[];
        };
        assert.equal(m.sourcesContent?.length, m.sources.length, `${map} carries its sources`);
        assert.ok(
          m.sourcesContent.every((s) => typeof s === 'string' && s.length > 0),
          map,
        );
      }
    },
  );

  for (const variant of VARIANTS) {
    describe(variant.name, () => {
      const app = () => installed.get(variant.name)!;

      check('installs one ioredis, the app’s, which the package and BullMQ share', () => {
        const { dir, versions } = app();
        console.log(`pack-and-consume: ${variant.name}: ${JSON.stringify(versions)}`);
        for (const from of [pkg.name, 'bullmq']) {
          const resolved = require.resolve('ioredis', {
            paths: [path.join(dir, 'node_modules', from)],
          });
          assert.equal(resolved, path.join(dir, 'node_modules', 'ioredis', 'built', 'index.js'));
        }
        // npm installs no optional peer by itself: these apps run without @nestjs/cqrs.
        if (!variant.cqrs) assert.equal(versions['@nestjs/cqrs'], undefined);
      });

      const compilers = variant.withOurTypeScript ? 'latest and ours' : 'latest';
      check(`compiles strict with skipLibCheck false (TypeScript ${compilers})`, () => {
        const { checks, dir } = app();
        const expected = expectedErrors(dir);
        for (const [compiler, check] of Object.entries(checks)) {
          if (!check) continue;
          const found = compilerErrors(check, compiler);
          const unexpected = found.filter((e) => !e.file.startsWith('compile-fail/'));
          assert.deepEqual(
            unexpected,
            [],
            `${compiler} TypeScript: no errors outside compile-fail/`,
          );
          assert.ok(expected.length > 0);
          assert.deepEqual(
            found.map((e) => `${e.file}:${e.line} ${e.code}`).sort(),
            expected.sort(),
            `${compiler} TypeScript: each marked line fails with its code, and nothing else:\n` +
              found.map((e) => `${e.file}:${e.line} ${e.code} ${e.text}`).join('\n'),
          );
        }
      });

      check('exports, from every entry point, what its module in src exports', async () => {
        const out = await exec(process.execPath, ['out/src/entry-points.js'], { cwd: app().dir });
        const entries = result(out);
        for (const entry of moduleEntries(exportsMap)) {
          const ownModule = path.join(root, 'build', 'src', entry === '.' ? 'index' : entry);
          const own = Object.keys((await import(ownModule)) as object).sort();
          assert.deepEqual(entries[entry], own, `${pkg.name}/${entry}`);
        }
      });

      check('installs the atomic-queues command, which prints its help', async () => {
        // npm links package.json's `bin` into node_modules/.bin (what `npx atomic-queues` runs):
        // run the link itself, so its `#!/usr/bin/env node` line and mode count.
        const bin = path.join(app().dir, 'node_modules', '.bin', 'atomic-queues');
        const out = await exec(bin, ['--help'], { cwd: app().dir });
        assert.equal(out.code, 0, `${out.stdout}${out.stderr}`);
        assert.match(out.stdout, /^Usage: atomic-queues <command>/);
      });

      for (const [script, expected] of scripts(variant)) {
        check(`runs ${script} on the app’s own ioredis client and its duplicates`, async () => {
          const keyPrefix = uniquePrefix(`pkg-${script}`);
          const out = await exec(process.execPath, [`out/src/${script}.js`], {
            cwd: app().dir,
            env: { REDIS_URL: redisUrl(), AQ_KEY_PREFIX: keyPrefix },
            timeoutMs: 60_000,
          });
          const { connections, ...rest } = result(out);
          assert.deepEqual(rest, expected);
          // Every connection of the run is the app's client or one of its duplicates (they
          // carry its name): the engine opened none of its own.
          const names = connections as string[];
          assert.ok(names.length >= 2, `the app's client and its duplicates: ${names.join(', ')}`);
          assert.deepEqual(new Set(names), new Set([`${keyPrefix}-app`]));
          const redis = newRedis();
          try {
            await cleanPrefix(redis, keyPrefix);
          } finally {
            await redis.quit();
          }
        });
      }
    });
  }
});
