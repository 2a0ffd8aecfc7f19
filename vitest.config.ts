import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A real Kafka broker for test/kafka (see test/setup/kafka.ts for where it comes from).
    globalSetup: ['test/setup/kafka.ts'],
    // chDB binds one data directory per process: every test file gets its own forked worker.
    pool: 'forks',
    isolate: true,
    testTimeout: 60_000,
    hookTimeout: 240_000,
  },
});
