import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite, types } from '@electric-sql/pglite';
import { classifyDbError, type Db, type Queryable } from './db.js';
import { takePidLock } from './pid-lock.js';

// Embedded PostgreSQL (WASM) for a single process: DATA_DIR/pglite, or memory
// when no directory is given (tests). PGlite runs one statement at a time, so
// its own transaction() serialises writers. PGlite itself does not stop a
// second process from opening the same directory (which would corrupt it):
// DATA_DIR/pglite.lock does.

const parsers = { [types.DATE]: (v: string) => v };

export class PgliteDb implements Db {
  private constructor(
    private readonly pg: PGlite,
    private readonly unlock: () => Promise<void> = async () => undefined,
  ) {}

  static async open(dataDir?: string): Promise<PgliteDb> {
    if (dataDir === undefined) return new PgliteDb(await PGlite.create({ parsers }));
    const dir = join(dataDir, 'pglite');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const unlock = await takePidLock(join(dataDir, 'pglite.lock'), `the embedded database in ${dataDir} (PGlite serves one process; set DATABASE_URL for more)`);
    try {
      return new PgliteDb(await PGlite.create({ dataDir: dir, parsers }), unlock);
    } catch (err) {
      await unlock();
      throw err;
    }
  }

  async query<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    try {
      return (await this.pg.query<T>(sql, params as unknown[])).rows;
    } catch (err) {
      throw classifyDbError(err);
    }
  }

  async exec(sql: string): Promise<void> {
    try {
      await this.pg.exec(sql);
    } catch (err) {
      throw classifyDbError(err);
    }
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.pg.transaction(async (t) =>
      fn({
        query: async <R>(sql: string, params: readonly unknown[] = []) => {
          try {
            return (await t.query<R>(sql, params as unknown[])).rows;
          } catch (err) {
            throw classifyDbError(err);
          }
        },
        exec: async (sql: string) => {
          try {
            await t.exec(sql);
          } catch (err) {
            throw classifyDbError(err);
          }
        },
      }),
    );
  }

  async close(): Promise<void> {
    try {
      await this.pg.close();
    } finally {
      await this.unlock();
    }
  }
}
