import { describe } from 'vitest';
import { PgDb } from '../../src/store/pg-db.js';
import { freshPgDatabase } from '../helpers/db.js';
import { defineDbContract } from './db-contract.js';

describe('Db contract: PostgreSQL', () =>
  defineDbContract({
    openPair: async () => {
      const fresh = await freshPgDatabase();
      const a = PgDb.open(fresh.url);
      const b = PgDb.open(fresh.url);
      return {
        a,
        b,
        cleanup: async () => {
          await a.close();
          await b.close();
          await fresh.drop();
        },
      };
    },
  }));
