import type { Db } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';
import { PgDb } from '../../src/store/pg-db.js';
import { PgliteDb } from '../../src/store/pglite-db.js';
import { freshPgDatabase } from '../../support/pg.js';

export { databaseUrl, freshPgDatabase } from '../../support/pg.js';

export interface TestDb {
  db: Db;
  url?: string;
  /** Drops what the test created (a PostgreSQL database); the db itself is closed by its owner. */
  cleanup(): Promise<void>;
}

/** Embedded PGlite in memory, migrated. */
export async function pgliteTestDb(): Promise<TestDb> {
  const db = await PgliteDb.open();
  await migrate(db);
  return { db, cleanup: async () => undefined };
}

export async function pgTestDb(): Promise<TestDb> {
  const fresh = await freshPgDatabase();
  const db = PgDb.open(fresh.url);
  await migrate(db);
  return { db, url: fresh.url, cleanup: () => fresh.drop() };
}
