import { describe } from 'vitest';
import { isolatedRedisKv } from '../helpers/redis.js';
import { defineSamlSuite } from './saml-suite.js';

describe('SAML schools (Redis KV)', () => {
  defineSamlSuite(async () => {
    const { kv } = await isolatedRedisKv();
    return { kv, cleanup: async () => undefined };
  });
});
