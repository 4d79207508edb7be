import { defineConfig } from 'vitest/config';

// Five projects: `default` (npm test) needs nothing running; `redis` needs
// REDIS_URL and runs the same contract and login suites against real Redis;
// `browser` drives Debian's Chromium (/usr/bin/chromium) through the demo; `pg` needs DATABASE_URL;
// `examples` runs the publisher examples against the demo (Python with Authlib).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'default',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.redis.test.ts', 'test/**/*.browser.test.ts', 'test/**/*.pg.test.ts', 'test/**/*.examples.test.ts'],
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
      {
        // `examples`: the publisher examples (examples/), Python with Authlib at PYTHON; a demo is started.
        test: {
          name: 'examples',
          include: ['test/**/*.examples.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 90_000,
          fileParallelism: false,
        },
      },
      {
        // `pg`: needs DATABASE_URL (and REDIS_URL for the multi-process tests); real PostgreSQL.
        test: {
          name: 'pg',
          include: ['test/**/*.pg.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
