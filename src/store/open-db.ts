import type { Db } from './db.js';
import { migrate } from './migrate.js';
import { PgDb } from './pg-db.js';
import { PgliteDb } from './pglite-db.js';

/** PostgreSQL when DATABASE_URL is set, else embedded PGlite in DATA_DIR; migrated before use. */
export async function openDb(config: { DATABASE_URL?: string | undefined; DATA_DIR: string }): Promise<Db> {
  const db = config.DATABASE_URL ? PgDb.open(config.DATABASE_URL) : await PgliteDb.open(config.DATA_DIR);
  try {
    await migrate(db);
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
  return db;
}
