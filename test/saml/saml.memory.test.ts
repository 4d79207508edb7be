import { describe } from 'vitest';
import { MemoryKv } from '../../src/store/memory-kv.js';
import { defineSamlSuite } from './saml-suite.js';

describe('SAML schools (memory KV)', () => {
  defineSamlSuite(async () => ({ kv: new MemoryKv(), cleanup: async () => undefined }));
});
