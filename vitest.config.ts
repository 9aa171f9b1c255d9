import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 30_000,
    // `npm test` passes --coverage. Only the in-process tests count: the e2e tests run dist/index.js in child
    // processes, which V8 coverage of this process does not see. The floor sits below the measured figure.
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      reporter: ['text-summary'],
      thresholds: { lines: 80, statements: 80, branches: 75, functions: 75 },
    },
  },
});
