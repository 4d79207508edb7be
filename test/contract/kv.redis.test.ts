import { describe } from 'vitest';
import { isolatedRedisKv } from '../helpers/redis.js';
import { defineKvContract } from './kv-contract.js';

describe('KV contract: Redis adapter (real Redis at REDIS_URL)', () => {
  defineKvContract(async () => {
    const { kv } = await isolatedRedisKv();
    return { kv, ttlOf: (key) => kv.client.pttl(key) };
  });
});
