import { readdir, readFile } from 'node:fs/promises';
import type { Db } from './db.js';

// A tiny migrator: the .sql files in ./migrations, applied in name order, each
// once, recorded in schema_migrations. The whole run holds a transaction-scoped
// advisory lock, so two processes starting at once apply each file once.

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);
// Any constant; it names this application's migration lock.
const LOCK_KEY = 7_245_114_201;

export async function listMigrations(): Promise<{ name: string; sql: string }[]> {
  const names = (await readdir(MIGRATIONS_DIR)).filter((n) => n.endsWith('.sql')).sort();
  return Promise.all(names.map(async (name) => ({ name, sql: await readFile(new URL(name, MIGRATIONS_DIR), 'utf8') })));
}

/** Apply the migrations not yet applied; returns their names. */
export async function migrate(db: Db): Promise<string[]> {
  const migrations = await listMigrations();
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
    await tx.query('CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    const done = new Set((await tx.query<{ name: string }>('SELECT name FROM schema_migrations')).map((r) => r.name));
    const applied: string[] = [];
    for (const { name, sql } of migrations) {
      if (done.has(name)) continue;
      await tx.exec(sql);
      await tx.query('INSERT INTO schema_migrations (name) VALUES ($1)', [name]);
      applied.push(name);
    }
    return applied;
  });
}
