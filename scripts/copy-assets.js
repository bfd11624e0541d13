#!/usr/bin/env node
// Copies the Lua scripts (src/redis/lua/**/*.lua) next to the compiled JS, keeping subfolders:
//   dist/redis/lua/...        (the published package, from tsconfig.build.json)
//   build/src/redis/lua/...   (the everything-build that tests, benchmarks and pods run)
// It is the last step of `npm run build`, so it also writes build/.build-stamp, which
// scripts/setup.js compares with source mtimes to decide whether a rebuild is needed.
// `--dist-only` (the last step of `npm run build:dist`, which `prepack` runs) copies to dist/
// alone and leaves build/ and its stamp untouched: packing must not pass build/ off as fresh.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const luaSrc = path.join(root, 'src', 'redis', 'lua');
const distOnly = process.argv.includes('--dist-only');
const targets = [
  path.join(root, 'dist', 'redis', 'lua'),
  ...(distOnly ? [] : [path.join(root, 'build', 'src', 'redis', 'lua')]),
];

/** Relative paths of every *.lua file under `dir` (empty if `dir` doesn't exist). */
function luaFiles(dir, rel = '') {
  const abs = path.join(dir, rel);
  if (!fs.existsSync(abs)) return [];
  const out = [];
  for (const entry of fs.readdirSync(abs, { withFileTypes: true })) {
    const child = path.join(rel, entry.name);
    if (entry.isDirectory()) out.push(...luaFiles(dir, child));
    else if (entry.isFile() && entry.name.endsWith('.lua')) out.push(child);
  }
  return out;
}

const files = luaFiles(luaSrc);
for (const target of targets) {
  for (const rel of files) {
    fs.mkdirSync(path.dirname(path.join(target, rel)), { recursive: true });
    fs.copyFileSync(path.join(luaSrc, rel), path.join(target, rel));
  }
}
console.log(
  `copy-assets: ${files.length} Lua file(s) -> ${targets.map((t) => path.relative(root, t)).join(', ')}`,
);

if (!distOnly) {
  fs.mkdirSync(path.join(root, 'build'), { recursive: true });
  fs.writeFileSync(path.join(root, 'build', '.build-stamp'), `${new Date().toISOString()}\n`);
}
