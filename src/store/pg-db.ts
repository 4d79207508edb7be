import pg from 'pg';
import { classifyDbError, type Db, type Queryable } from './db.js';

// PostgreSQL through a small pool. Bounded timeouts: an admin request waiting
// on a dead database gets a 503 quickly instead of hanging.
const POOL = { max: 5, connectionTimeoutMillis: 2_000, idleTimeoutMillis: 30_000, query_timeout: 5_000 };

// DATE columns stay 'YYYY-MM-DD' strings: no time-zone shift through JS Dates.
const keepText = (v: string): string => v;
const types = {
  getTypeParser: ((oid: number, format?: string): unknown =>
    oid === (pg.types.builtins.DATE as number) ? keepText : (pg.types.getTypeParser(oid, format as 'text') as unknown)) as pg.CustomTypesConfig['getTypeParser'],
};

export class PgDb implements Db {
  private constructor(private readonly pool: pg.Pool) {}

  static open(url: string): PgDb {
    const pool = new pg.Pool({ connectionString: url, ...POOL, types });
    // An idle connection dropped by the server must not crash the process; the pool replaces it.
    pool.on('error', () => undefined);
    return new PgDb(pool);
  }

  async query<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    try {
      return (await this.pool.query(sql, params as unknown[])).rows as T[];
    } catch (err) {
      throw classifyDbError(err);
    }
  }

  async exec(sql: string): Promise<void> {
    await this.query(sql);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw classifyDbError(err);
    }
    const tx: Queryable = {
      query: async <R>(sql: string, params: readonly unknown[] = []) => {
        try {
          return (await client.query(sql, params as unknown[])).rows as R[];
        } catch (err) {
          throw classifyDbError(err);
        }
      },
      exec: async (sql: string) => {
        await tx.query(sql);
      },
    };
    let broken: Error | undefined;
    try {
      await tx.query('BEGIN');
      const result = await fn(tx);
      await tx.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch((rollbackErr: Error) => (broken = rollbackErr));
      throw err;
    } finally {
      // A connection that could not roll back is discarded, not reused.
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
