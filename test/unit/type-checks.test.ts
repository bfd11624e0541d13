/**
 * What the public types infer and refuse: test/types/*.ts, compiled here with the repository's
 * compiler options and their `// @ts-expect-error TS<code>` directives turned off, must fail on
 * exactly the line after each directive, with exactly its code, and nowhere else. (The build
 * compiles the same files with the directives on: there a directive whose line compiles fails.)
 * Source-level, against src/: test/package/ checks the packed declarations the same way.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';

const root = path.resolve(__dirname, '..', '..', '..');
const fixtures = path.join(root, 'test', 'types');
const DIRECTIVE = /^\s*\/\/ @ts-expect-error (TS\d+)\b/;

test('each marked line of test/types fails to compile with its code, and nothing else fails', () => {
  const config = ts.getParsedCommandLineOfConfigFile(
    path.join(root, 'tsconfig.json'),
    { noEmit: true },
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) =>
        assert.fail(ts.flattenDiagnosticMessageText(d.messageText, '\n')),
    },
  );
  assert.ok(config);
  const files = fs
    .readdirSync(fixtures)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(fixtures, f));
  assert.ok(files.length > 0);

  const expected: string[] = [];
  const host = ts.createCompilerHost(config.options);
  const readFile = host.readFile.bind(host);
  host.readFile = (file) => {
    const text = readFile(file);
    if (text === undefined || path.dirname(path.resolve(file)) !== fixtures) return text;
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      const code = DIRECTIVE.exec(line)?.[1];
      if (code) expected.push(`${path.basename(file)}:${i + 2} ${code}`);
    });
    // Directives off (same length, so positions don't move): the errors become visible.
    return lines.map((l) => l.replace('@ts-expect-error', '@ts-expected-err')).join('\n');
  };
  const program = ts.createProgram(files, config.options, host);
  // The fixtures' own errors (src is type-checked by the build): the check takes seconds, not 30.
  const diagnostics = [
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
    ...files.flatMap((f) => {
      const source = program.getSourceFile(f);
      assert.ok(source, f);
      return [
        ...program.getSyntacticDiagnostics(source),
        ...program.getSemanticDiagnostics(source),
      ];
    }),
  ];
  const found = diagnostics.map((d) => {
    const text = ts.flattenDiagnosticMessageText(d.messageText, '\n').split('\n')[0];
    if (!d.file || d.start === undefined) return `(global) TS${d.code} ${text}`;
    const { line } = d.file.getLineAndCharacterOfPosition(d.start);
    return `${path.relative(fixtures, d.file.fileName)}:${line + 1} TS${d.code}`;
  });
  assert.ok(expected.length >= 10, `the directives were read: ${expected.length}`);
  assert.deepEqual(found.sort(), expected.sort());
});
