import { describe } from 'vitest';
import type { MemoryKv } from '../../src/store/memory-kv.js';
import { MemoryKv as Kv } from '../../src/store/memory-kv.js';
import { pgliteTestDb } from '../helpers/db.js';
import { defineRosterSuite } from './roster-suite.js';

describe('the school roster on PGlite', () =>
  defineRosterSuite(pgliteTestDb, async () => {
    const kv: MemoryKv = new Kv();
    return { kv, dump: async () => (await Promise.all(kv.keys().map(async (k) => `${k} ${(await kv.get(k)) ?? ''}`))).join('\n'), close: async () => undefined };
  }));
