import type { PupilRefs } from '../crypto/pseudonym.js';
import type { Queryable } from '../store/db.js';

// Parents' objections (bezwaar, docs/privacy.md; migrations 002, 004):
// this pupil's data is not released to one client, or to any client of one
// supplier. Stored by student ref only. The login path reads them from the
// registry snapshot (objectsTo), never from the database.

export interface ObjectionTarget {
  readonly studentRef: string;
  /** Stored under the ref's first form (ref_version 1): found by the pupil's legacy ref. */
  readonly legacy?: boolean;
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
  const rows = await q.query<{ student_ref: string; client_id: string | null; supplier_id: string | null; ref_version: number }>(
    'SELECT student_ref, client_id, supplier_id, ref_version FROM objections ORDER BY student_ref, client_id, supplier_id',
  );
  return rows.map((r) => ({ studentRef: r.student_ref, legacy: r.ref_version === 1, ...againstOf(r) }));
}

/** Does an objection stop this pupil's release to this client? */
export type ObjectsTo = (pupil: PupilRefs, clientId: string, supplierId: string) => boolean;

export function objectionIndex(targets: readonly ObjectionTarget[]): ObjectsTo {
  if (!targets.length) return () => false;
  // A student ref names one pupil of one school, so it needs no school beside it.
  const keys = new Set(targets.map((t) => (t.client === undefined ? `${t.studentRef}\0s\0${t.supplier}` : `${t.studentRef}\0c\0${t.client}`)));
  const objects = (ref: string, clientId: string, supplierId: string) => keys.has(`${ref}\0c\0${clientId}`) || keys.has(`${ref}\0s\0${supplierId}`);
  // Both forms are in the one index; the first form is computed (an HMAC) only while an objection has it.
  const anyLegacy = targets.some((t) => t.legacy);
  return (pupil, clientId, supplierId) => objects(pupil.ref, clientId, supplierId) || (anyLegacy && objects(pupil.legacy(), clientId, supplierId));
}
