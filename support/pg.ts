import { randomBytes } from 'node:crypto';
import pg from 'pg';

// PostgreSQL for the tests and benches that need a real server (DATABASE_URL).

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

