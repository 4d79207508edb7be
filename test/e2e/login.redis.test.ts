import { describe } from 'vitest';
import { isolatedRedisKv } from '../helpers/redis.js';
import { defineLoginSuite } from './login-suite.js';

describe('login end to end (Redis KV)', () => {
  defineLoginSuite(async () => {
    const { kv } = await isolatedRedisKv();
    return { kv, cleanup: async () => undefined };
  });
});
