import { ConstraintError, type Db } from '../store/db.js';

export type DbOperation = 'query' | 'exec' | 'transaction';

/**
 * The same database, reporting each failed operation by name (for the database
 * error counter); a constraint conflict is the caller's doing and is not
 * counted. Results and errors pass through.
 */
export function reportDbErrors(db: Db, onError: (operation: DbOperation) => void): Db {
  const watch = <T>(operation: DbOperation, pending: Promise<T>): Promise<T> =>
    pending.catch((err: unknown) => {
      if (!(err instanceof ConstraintError)) onError(operation);
      throw err;
    });
  return {
    query: (sql, params) => watch('query', db.query(sql, params)),
    exec: (sql) => watch('exec', db.exec(sql)),
    // Counted once, for the whole transaction.
    transaction: (fn) => watch('transaction', db.transaction(fn)),
    close: () => db.close(),
  };
}
