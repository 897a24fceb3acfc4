// Test projects, each runnable on its own: `npx vitest run --project unit` (or integration, infra).
import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    // Builds dist/cli, which the tests that run `queuewatch` as a process use.
    globalSetup: ['test/support/build-cli.ts'],
    // At least two files at once. Vitest's default, one fewer than the cores, runs a 2-core
    // machine's files one by one, and most of the long ones spend their time waiting on a child
    // process or a local server: two at once took the suite from 543 to 382 s here.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    projects: [
      {
        extends: true,
        // Timeouts catch a hang, not slowness: files share the cores, and some unit tests start the
        // CLI as a process (a few seconds each on a busy machine).
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 30_000 },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'infra',
          include: ['test/infra/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
