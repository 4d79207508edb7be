import { describe } from 'vitest';
import { pgliteTestDb } from '../helpers/db.js';
import { isolatedRedisKv } from '../helpers/redis.js';
import { defineUpstreamOidcSuite } from './upstream-oidc-suite.js';

describe('upstream OpenID login end to end (Redis KV, PGlite)', () => {
  defineUpstreamOidcSuite(pgliteTestDb, async () => {
    const { kv } = await isolatedRedisKv();
    return { kv, close: async () => undefined };
  });
});
