import { describe } from 'vitest';
import { isolatedRedisKv } from '../helpers/redis.js';
import { defineRateLimitSuite } from './rate-limit-suite.js';

describe('rate limits: Redis KV (real Redis at REDIS_URL)', () => {
  defineRateLimitSuite(async () => {
    const { kv } = await isolatedRedisKv();
    return { kv, cleanup: async () => undefined };
  });
});
