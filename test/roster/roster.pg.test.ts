import { Redis } from 'ioredis';
import { describe } from 'vitest';
import { pgTestDb } from '../helpers/db.js';
import { isolatedRedisKv, redisUrl } from '../helpers/redis.js';
import { defineRosterSuite } from './roster-suite.js';

// On PostgreSQL, with real Redis as the KV: the dump covers every key under the gateway's prefix.
describe('the school roster on PostgreSQL', () =>
  defineRosterSuite(pgTestDb, async () => {
    const { kv, prefix } = await isolatedRedisKv();
    const raw = new Redis(redisUrl());
    return {
      kv,
      dump: async () => {
        const keys = await raw.keys(`${prefix}*`);
        return (await Promise.all(keys.map(async (k) => `${k} ${(await raw.type(k)) === 'string' ? ((await raw.get(k)) ?? '') : ''}`))).join('\n');
      },
      close: async () => void raw.disconnect(),
    };
  }));
