import type { FastifyBaseLogger } from 'fastify';
import type { Db, Queryable } from '../store/db.js';
import type { RegistryNotices } from '../store/registry-notices.js';
import type { RegistrySnapshot } from '../store/snapshot.js';

export interface AdminDeps {
  db: Db;
  snapshot: Pick<RegistrySnapshot, 'refresh'>;
  notices: RegistryNotices;
  log: FastifyBaseLogger;
}

/**
 * One admin change: `fn` writes the change and its audit event in one
 * transaction; once committed, this process reloads its snapshot and every
 * other process is told to.
 */
export async function commitChange<T>(deps: AdminDeps, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  const result = await deps.db.transaction(fn);
  await deps.snapshot.refresh().catch((err: unknown) => deps.log.warn({ err }, 'snapshot refresh after a change failed'));
  await deps.notices.publish();
  return result;
}
