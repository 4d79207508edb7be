import type { Queryable } from '../store/db.js';

// Parents' objections (bezwaar, docs/privacy.md; migration 002): this
// pupil's data is not released to one client, or to any client of one
// supplier. Stored by student ref only. The login path reads them from the
// registry snapshot (objectsTo), never from the database.

export interface ObjectionTarget {
  readonly studentRef: string;
  readonly client?: string;
  readonly supplier?: string;
}

/** Against one client (product), or against every client of one supplier. */
export type ObjectionAgainst = { client: string } | { supplier: string };

/** The target of an objection row (the table's CHECK: exactly one of the two is set). */
export const againstOf = (r: { client_id: string | null; supplier_id: string | null }): ObjectionAgainst =>
  r.client_id === null ? { supplier: r.supplier_id! } : { client: r.client_id };

/** Every objection, for the snapshot. */
export async function allObjectionTargets(q: Queryable): Promise<ObjectionTarget[]> {
  const rows = await q.query<{ student_ref: string; client_id: string | null; supplier_id: string | null }>(
    'SELECT student_ref, client_id, supplier_id FROM objections ORDER BY student_ref, client_id, supplier_id',
  );
  return rows.map((r) => ({ studentRef: r.student_ref, ...againstOf(r) }));
}

/** Does an objection stop this pupil's release to this client? */
export type ObjectsTo = (studentRef: string, clientId: string, supplierId: string) => boolean;

export function objectionIndex(targets: readonly ObjectionTarget[]): ObjectsTo {
  if (!targets.length) return () => false;
  // A student ref names one pupil of one school, so it needs no school beside it.
  const keys = new Set(targets.map((t) => (t.client === undefined ? `${t.studentRef}\0s\0${t.supplier}` : `${t.studentRef}\0c\0${t.client}`)));
  return (studentRef, clientId, supplierId) => keys.has(`${studentRef}\0c\0${clientId}`) || keys.has(`${studentRef}\0s\0${supplierId}`);
}
