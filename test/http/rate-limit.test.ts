import { describe } from 'vitest';
import { MemoryKv } from '../../src/store/memory-kv.js';
import { defineRateLimitSuite } from './rate-limit-suite.js';

describe('rate limits: in-memory KV', () => {
  defineRateLimitSuite(async () => {
    const kv = new MemoryKv();
    return { kv, cleanup: () => kv.close() };
  });
});
