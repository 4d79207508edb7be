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

interface HeldClient {
  readonly client: pg.PoolClient;
  /** Set once the connection failed while held: it must not be reused. */
  broken: Error | undefined;
  readonly onError: (err: Error) => void;
}

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
    const held = await this.checkOut();
    const { client } = held;
    const tx: Queryable = {
      query: async <R>(sql: string, params: readonly unknown[] = []) => {
        try {
          if (held.broken) throw held.broken;
          return (await client.query(sql, params as unknown[])).rows as R[];
        } catch (err) {
          throw classifyDbError(err);
        }
      },
      exec: async (sql: string) => {
        await tx.query(sql);
      },
    };
    try {
      await tx.query('BEGIN');
      const result = await fn(tx);
      await tx.query('COMMIT');
      return result;
    } catch (err) {
      if (!held.broken) await client.query('ROLLBACK').catch((rollbackErr: Error) => (held.broken = rollbackErr));
      throw err;
    } finally {
      client.off('error', held.onError);
      // A connection that broke or could not roll back is discarded, not reused.
      client.release(held.broken);
    }
  }

  /**
   * A client of the pool, heard while held. pg-pool removes its own error listener while a
   * client is checked out; a connection that ends then (the backend terminated, the TCP
   * connection reset) emits 'error', which unheard would end the process. Heard, it marks the
   * client broken: the statement in flight, or the next one, fails (503) and the client is
   * discarded. The listener goes on in pg-pool's callback, not after an await: a new
   * connection's first data chunk can carry both its ready message and the termination.
   */
  private checkOut(): Promise<HeldClient> {
    return new Promise((resolve, reject) => {
      this.pool.connect((err, client) => {
        if (err || !client) return reject(classifyDbError(err));
        const held: HeldClient = {
          client,
          broken: undefined,
          onError: (error: Error) => {
            held.broken ??= error;
          },
        };
        client.on('error', held.onError);
        resolve(held);
      });
    });
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
