import type { Db } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';
import { PgDb } from '../../src/store/pg-db.js';
import { PgliteDb } from '../../src/store/pglite-db.js';
import { databaseUrl, freshPgDatabase } from '../../support/pg.js';
import { TcpProxy } from './tcp-proxy.js';

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

/** A fresh database, and its URL through a loopback proxy the test can cut, reset and restore. */
export async function freshPgDatabaseBehindProxy(): Promise<{ database: Awaited<ReturnType<typeof freshPgDatabase>>; proxy: TcpProxy; viaProxy: string }> {
  const database = await freshPgDatabase();
  const real = new URL(databaseUrl());
  const proxy = await TcpProxy.start({ host: real.hostname, port: Number(real.port || 5432) });
  const viaProxy = new URL(database.url);
  viaProxy.host = `127.0.0.1:${proxy.port}`;
  return { database, proxy, viaProxy: viaProxy.toString() };
}
