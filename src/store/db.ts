import { UnavailableError } from '../errors.js';

/**
 * The durable-state port (docs/architecture.md): plain SQL with $n parameters,
 * served by PostgreSQL (pg) or embedded PGlite. Adapters throw UnavailableError
 * when the database cannot be reached, so admin writes answer 503 and the
 * snapshot refresh keeps the last good registry.
 */
export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Db extends Queryable {
  /** Run `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** A conflict the caller caused (SQLSTATE class 23, integrity constraint): not an outage. */
export class ConstraintError extends Error {
  constructor(readonly constraint: string | undefined, options?: ErrorOptions) {
    super(`constraint violated: ${constraint ?? 'unknown'}`, options);
    this.name = 'ConstraintError';
  }
}

/**
 * Sort a database error into what callers act on: an integrity conflict, or an
 * unavailable database. Everything without a SQL state (connection refused,
 * reset, timeout) and the server-side availability classes (08 connection,
 * 53 resources, 57 operator intervention) count as unavailable.
 */
export function classifyDbError(err: unknown): Error {
  const code = (err as { code?: unknown }).code;
  const sqlState = typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
  if (sqlState?.startsWith('23')) return new ConstraintError((err as { constraint?: string }).constraint, { cause: err });
  if (!sqlState || ['08', '53', '57'].includes(sqlState.slice(0, 2))) return new UnavailableError(err);
  return err instanceof Error ? err : new Error(String(err));
}
