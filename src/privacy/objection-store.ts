import type { Queryable } from '../store/db.js';
import type { Page } from '../store/registrations.js';
import { againstOf, type ObjectionAgainst } from './objections.js';

// A school's objections in the database (migrations 002, 004), for the admin
// API. Every read and write names the school, so another school's objection
// id is simply not found. What leaves this module never carries the student
// ref. A pupil is looked up under all its refs: the ref and, during the
// transition, its first form (docs/pseudonyms.md).

export type StoredObjection = ObjectionAgainst & { id: string; createdAt: string };

interface ObjectionRow {
  id: string;
  client_id: string | null;
  supplier_id: string | null;
  created_at: Date;
}

const COLUMNS = 'id, client_id, supplier_id, created_at';

const toStored = (r: ObjectionRow): StoredObjection => ({ id: r.id, ...againstOf(r), createdAt: r.created_at.toISOString() });

/**
 * Stored under `refs[0]` (version 2); undefined when the pupil already has this objection under
 * any of `refs` (under the first, the unique index objections_target decides).
 */
export async function insertObjection(tx: Queryable, id: string, school: string, refs: readonly [string, ...string[]], against: ObjectionAgainst): Promise<StoredObjection | undefined> {
  const rows = await tx.query<ObjectionRow>(
    `INSERT INTO objections (id, school_id, student_ref, client_id, supplier_id, ref_version)
     SELECT $1, $2, $3, $4, $5, 2
     WHERE NOT EXISTS (SELECT 1 FROM objections WHERE school_id = $2 AND student_ref = ANY($6::text[])
                       AND coalesce(client_id, '') = coalesce($4, '') AND coalesce(supplier_id, '') = coalesce($5, ''))
     ON CONFLICT DO NOTHING RETURNING ${COLUMNS}`,
    [id, school, refs[0], 'client' in against ? against.client : null, 'supplier' in against ? against.supplier : null, refs],
  );
  return rows[0] && toStored(rows[0]);
}

/** Creation order, id as the tie-breaker: pages stay stable while objections are added. */
export async function listObjections(q: Queryable, school: string, page: Page): Promise<{ items: StoredObjection[]; total: number }> {
  const rows = await q.query<ObjectionRow>(`SELECT ${COLUMNS} FROM objections WHERE school_id = $1 ORDER BY created_at, id LIMIT $2 OFFSET $3`, [school, page.limit, page.offset]);
  const [count] = await q.query<{ n: number }>('SELECT count(*)::int AS n FROM objections WHERE school_id = $1', [school]);
  return { items: rows.map(toStored), total: count?.n ?? 0 };
}

/** One pupil's objections (access request), oldest first. */
export async function objectionsOf(q: Queryable, school: string, refs: readonly string[]): Promise<StoredObjection[]> {
  const rows = await q.query<ObjectionRow>(`SELECT ${COLUMNS} FROM objections WHERE school_id = $1 AND student_ref = ANY($2::text[]) ORDER BY created_at, id`, [school, refs]);
  return rows.map(toStored);
}

/** Withdraw one objection; returns what it was against, if it existed at this school. */
export async function deleteObjection(tx: Queryable, school: string, id: string): Promise<StoredObjection | undefined> {
  const rows = await tx.query<ObjectionRow>(`DELETE FROM objections WHERE school_id = $1 AND id = $2 RETURNING ${COLUMNS}`, [school, id]);
  return rows[0] && toStored(rows[0]);
}

/** Erasure: every objection of one pupil; returns how many. */
export async function deleteObjectionsOf(tx: Queryable, school: string, refs: readonly string[]): Promise<number> {
  const rows = await tx.query<{ id: string }>('DELETE FROM objections WHERE school_id = $1 AND student_ref = ANY($2::text[]) RETURNING id', [school, refs]);
  return rows.length;
}
