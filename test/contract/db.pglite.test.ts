import { describe } from 'vitest';
import { PgliteDb } from '../../src/store/pglite-db.js';
import { defineDbContract } from './db-contract.js';

// PGlite serves one process: both "connections" are the same embedded database.
describe('Db contract: PGlite', () =>
  defineDbContract({
    openPair: async () => {
      const db = await PgliteDb.open();
      return { a: db, b: db, cleanup: () => db.close() };
    },
  }));
