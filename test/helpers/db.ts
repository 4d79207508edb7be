import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Db } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';
import { PgDb } from '../../src/store/pg-db.js';
import { PgliteDb } from '../../src/store/pglite-db.js';
import { TcpProxy } from './tcp-proxy.js';

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

/** DATABASE_URL is required by the pg test project: a missing one is a failure, never a skip. */
export function databaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL must be set for the pg test project and the two-instance Redis test (see .ci/run)');
  return url;
}

/** A fresh PostgreSQL database of its own (other helpers share the server), migrated. */
export async function freshPgDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = databaseUrl();
  const name = `pgwtest_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
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
