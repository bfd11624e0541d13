// ESLint 9 flat config: typescript-eslint's type-checked rules on every .ts file.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Relative import patterns reaching src/<folder> (or inside it) from anywhere under src/. */
function up(folder) {
  return ['..', '../..', '../../..'].flatMap((dots) => [
    `${dots}/${folder}`,
    `${dots}/${folder}/**`,
  ]);
}

/** An ESLint config block forbidding imports that match each [patterns, message] pair. */
function layer(files, ...rules) {
  return [
    {
      files: [files],
      rules: {
        'no-restricted-imports': [
          'error',
          { patterns: rules.map(([group, message]) => ({ group, message })) },
        ],
      },
    },
  ];
}

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'build/',
      'node_modules/',
      'coverage/',
      '.tmp/',
      'scripts/*.js',
      'docs/',
      // An app of its own, compiled against the packed package by pack-and-consume.test.ts.
      'test/package/consumer/',
    ],
  },
  eslint.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        // Type information comes from tsconfig.json, which includes every .ts file.
        projectService: true,
        tsconfigRootDir: path.dirname(fileURLToPath(import.meta.url)),
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's test()/describe() return promises the runner itself awaits.
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
    },
  },
  // The layering of src/, enforced: nest -> core -> redis -> errors, never back.
  ...layer('src/errors/**/*.ts', [
    [...up('core'), ...up('nest'), ...up('redis')],
    'src/errors is the bottom layer: it imports nothing of the library.',
  ]),
  ...layer('src/redis/**/*.ts', [
    [...up('core'), ...up('nest')],
    'src/redis never imports src/core or src/nest: the engine builds on Redis, not the reverse.',
  ]),
  ...layer(
    'src/core/**/*.ts',
    [up('nest'), 'src/core is framework-free: it never imports src/nest.'],
    [
      ['./engine', '../engine', '../../engine'],
      'A part of the engine takes a narrow context, never the AtomicEngine façade (src/core/engine.ts).',
    ],
  ),
  ...layer('src/nest/**/*.ts', [
    [...up('core').filter((p) => p.endsWith('/**')), ...up('redis')],
    "The Nest adapter uses the engine's public surface only: import from src/core (its index).",
  ]),
  ...layer('src/testing/**/*.ts', [
    [...up('core').filter((p) => p.endsWith('/**')), ...up('redis')],
    "The testing entry serves src/core's index and the Nest adapter's testing module, nothing deeper.",
  ]),
  {
    // The core's index re-exports the façade.
    files: ['src/core/index.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    // Tests and benchmarks poke at untyped data (CLIENT LIST, JSON results); keep them readable.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
);
