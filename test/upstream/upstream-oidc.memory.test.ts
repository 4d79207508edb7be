import { describe } from 'vitest';
import { MemoryKv } from '../../src/store/memory-kv.js';
import { pgliteTestDb } from '../helpers/db.js';
import { defineUpstreamOidcSuite } from './upstream-oidc-suite.js';

describe('upstream OpenID login end to end (in-memory KV, PGlite)', () => {
  defineUpstreamOidcSuite(pgliteTestDb, async () => ({ kv: new MemoryKv(), close: async () => undefined }));
});
