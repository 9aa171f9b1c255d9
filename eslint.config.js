// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    rules: {
      // TypeScript checks names; ESLint's no-undef does not know Node's or TypeScript's globals.
      'no-undef': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      // The action prints through @actions/core only (masking, annotations); tools may print freely.
      'no-console': 'error',
    },
  },
  {
    // The action runs many requests side by side: `x += await f()` reads x before the await, a lost update.
    // (Tests reassign their fixtures after awaits in sequence, which this rule cannot tell apart.)
    files: ['src/**'],
    rules: { 'require-atomic-updates': 'error' },
  },
  {
    files: ['emulator/**', 'scripts/**', 'bench/**', 'test/**'],
    rules: { 'no-console': 'off' },
  },
);
