import { defineConfig } from 'vitest/config';

// Three projects: `default` (npm test) needs nothing running; `redis` needs
// REDIS_URL and runs the same contract and login suites against real Redis;
// `browser` drives Debian's Chromium (/usr/bin/chromium) through the demo.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'default',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.redis.test.ts', 'test/**/*.browser.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'redis',
          include: ['test/**/*.redis.test.ts'],
          testTimeout: 30_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'browser',
          include: ['test/**/*.browser.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
