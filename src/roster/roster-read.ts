import type { Queryable } from '../store/db.js';

// Reading and deleting single roster rows, the summary, the unmatched-login
// counter and the grace-period purge (docs/roster.md). Hashes travel as hex.

export interface SealedRow {
  /** Hex of the key hash. */
  keyHash: string;
  sealed: Uint8Array;
  removedAt: Date | null;
}

interface Row {
  key_hash: string;
  sealed: Uint8Array;
  removed_at: Date | null;
}

const toSealed = (r: Row): SealedRow => ({ keyHash: r.key_hash, sealed: r.sealed, removedAt: r.removed_at });

/** The active person holding this login hash, if any. */
export async function findByLogin(q: Queryable, school: string, loginHash: string): Promise<SealedRow | undefined> {
  const [row] = await q.query<Row>(
    `SELECT encode(p.key_hash, 'hex') AS key_hash, p.sealed, p.removed_at FROM roster_logins l
     JOIN roster_people p ON p.school_id = l.school_id AND p.key_hash = l.key_hash
     WHERE l.school_id = $1 AND l.login_hash = decode($2, 'hex') AND p.removed_at IS NULL`,
    [school, loginHash],
  );
  return row && toSealed(row);
}

/** The person with this key hash, active or removed and within the grace period. */
export async function findByKey(q: Queryable, school: string, keyHash: string): Promise<SealedRow | undefined> {
  const [row] = await q.query<Row>(
    "SELECT encode(key_hash, 'hex') AS key_hash, sealed, removed_at FROM roster_people WHERE school_id = $1 AND key_hash = decode($2, 'hex')",
    [school, keyHash],
  );
  return row && toSealed(row);
}

/** Erasure: the row and its logins, at once; returns how many rows went (0 or 1). */
export async function deleteRosterPerson(q: Queryable, school: string, keyHash: string): Promise<number> {
  const rows = await q.query("DELETE FROM roster_people WHERE school_id = $1 AND key_hash = decode($2, 'hex') RETURNING 1", [school, keyHash]);
  return rows.length;
}

export interface RosterSize {
  active: number;
  removedPendingDeletion: number;
}

export async function rosterSize(q: Queryable, school: string): Promise<RosterSize> {
  const [row] = await q.query<{ active: number; removed: number }>(
    'SELECT count(*) FILTER (WHERE removed_at IS NULL)::int AS active, count(*) FILTER (WHERE removed_at IS NOT NULL)::int AS removed FROM roster_people WHERE school_id = $1',
    [school],
  );
  return { active: row?.active ?? 0, removedPendingDeletion: row?.removed ?? 0 };
}

/** One more login of the school that found nobody on the roster, on this school day. */
export async function countUnmatched(q: Queryable, school: string, day: string): Promise<void> {
  await q.query(
    'INSERT INTO roster_unmatched (school_id, day, count) VALUES ($1, $2, 1) ON CONFLICT (school_id, day) DO UPDATE SET count = roster_unmatched.count + 1',
    [school, day],
  );
}

export async function unmatchedSince(q: Queryable, school: string, firstDay: string): Promise<{ day: string; count: number }[]> {
  return q.query<{ day: string; count: number }>('SELECT day::text AS day, count FROM roster_unmatched WHERE school_id = $1 AND day >= $2 ORDER BY day', [school, firstDay]);
}

export interface PurgeCutoffs {
  /** Removed people whose removal is older go. */
  removedBefore: Date;
  /** Unmatched-login counts and finished imports older than this go. */
  historyBefore: Date;
  historyDayBefore: string;
}

/** The grace-period and history purge; returns how many people were deleted. */
export async function purgeRoster(q: Queryable, cutoffs: PurgeCutoffs): Promise<number> {
  const people = await q.query('DELETE FROM roster_people WHERE removed_at < $1 RETURNING 1', [cutoffs.removedBefore]);
  await q.query('DELETE FROM roster_unmatched WHERE day < $1', [cutoffs.historyDayBefore]);
  await q.query("DELETE FROM roster_imports WHERE state NOT IN ('validating', 'writing') AND started_at < $1", [cutoffs.historyBefore]);
  return people.length;
}
