import { describe } from 'vitest';
import { MemoryKv } from '../../src/store/memory-kv.js';
import { defineLoginSuite } from './login-suite.js';

describe('login end to end (in-memory KV)', () => {
  defineLoginSuite(async () => ({ kv: new MemoryKv(), cleanup: async () => undefined }));
});
