#!/usr/bin/env node
// Keeps the README's code snippets identical to docs/snippets/*.ts, which the build type-checks
// (tsconfig.snippets.json). In the README, a snippet is a line `<!-- snippet: <path> -->` followed
// by a fenced ```ts block.
//   node scripts/readme.js --check   exits 1 when a block differs from its file (lint runs this)
//   node scripts/readme.js --write   rewrites the blocks from the files
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const readmePath = path.join(root, 'README.md');
const MARKER = /<!-- snippet: ([^ ]+) -->\n```ts\n([\s\S]*?)```/g;

function sync(readme) {
  const stale = [];
  const out = readme.replace(MARKER, (_all, file, body) => {
    const source = fs.readFileSync(path.join(root, file), 'utf8');
    if (source !== body) stale.push(file);
    return `<!-- snippet: ${file} -->\n\`\`\`ts\n${source}\`\`\``;
  });
  return { out, stale, count: (readme.match(MARKER) || []).length };
}

if (require.main === module) {
  const mode = process.argv[2];
  const readme = fs.readFileSync(readmePath, 'utf8');
  const { out, stale, count } = sync(readme);
  if (mode === '--write') {
    fs.writeFileSync(readmePath, out);
    console.log(`readme: ${count} snippets written`);
  } else if (stale.length > 0) {
    console.error(
      `readme: snippets out of date: ${stale.join(', ')}. Run: node scripts/readme.js --write`,
    );
    process.exit(1);
  } else {
    console.log(`readme: ${count} snippets match docs/snippets`);
  }
}

module.exports = { sync };
