import type { Db, Queryable } from '../store/db.js';

// Rows still named by the student ref's first form, HMAC(k_ref, input)
// (ref_version 1, migration 004), and their move to the ref from the root
// at the pupil's next login (docs/pseudonyms.md, "The transition"). Nothing
// here ever needs the pupils' keys in bulk: the move runs for one pupil,
// when that pupil's login has both forms at hand.

/** Serialises the changes to one pupil's rows (erasure, the move) within their transactions. */
export async function lockPupilRows(tx: Queryable, school: string, ref: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`pupil-rows:${school}:${ref}`]);
}

/** How many distinct first-form refs the ledger and the objections still hold (an upper bound: a pupil in both counts twice). */
export async function countLegacyRefs(q: Queryable): Promise<number> {
  const [row] = await q.query<{ n: number }>(
    `SELECT (SELECT count(*) FROM (SELECT DISTINCT school_id, student_ref FROM disclosures WHERE ref_version = 1) d)::int
          + (SELECT count(*) FROM objections WHERE ref_version = 1)::int AS n`,
  );
  return Number(row?.n ?? 0);
}

/** The first-form refs, a page at a time in (school, ref) order, so a large ledger is never read at once. */
export async function* legacyRefPages(q: Queryable, pageSize = 10_000): AsyncGenerator<string[]> {
  yield (await q.query<{ student_ref: string }>('SELECT student_ref FROM objections WHERE ref_version = 1')).map((r) => r.student_ref);
  let after = { school: '', ref: '' };
  for (;;) {
    const rows = await q.query<{ school_id: string; student_ref: string }>(
      `SELECT DISTINCT school_id, student_ref FROM disclosures
       WHERE ref_version = 1 AND (school_id, student_ref) > ($1, $2) ORDER BY school_id, student_ref LIMIT $3`,
      [after.school, after.ref, pageSize],
    );
    if (!rows.length) return;
    yield rows.map((r) => r.student_ref);
    const last = rows[rows.length - 1]!;
    after = { school: last.school_id, ref: last.student_ref };
  }
}

export interface Moved {
  disclosures: number;
  objections: number;
}

/**
 * One pupil's first-form rows become rows under `ref`, in one transaction. A ledger row
 * that exists under both (the same client, claim set and day) becomes one row with the
 * counts added; the rows are taken by DELETE ... RETURNING, so two moves at once count
 * each row once. An objection already held under `ref` is kept once.
 */
export function moveLegacyRows(db: Db, school: string, legacy: string, ref: string): Promise<Moved> {
  return db.transaction(async (tx) => {
    await lockPupilRows(tx, school, ref);
    const [ledger] = await tx.query<{ n: number }>(
      `WITH moved AS (
         DELETE FROM disclosures WHERE school_id = $1 AND student_ref = $2 AND ref_version = 1
         RETURNING client_id, supplier_id, claims, day, count
       ), merged AS (
         INSERT INTO disclosures (school_id, student_ref, client_id, supplier_id, claims, day, count, ref_version)
         SELECT $1, $3, client_id, supplier_id, claims, day, count, 2 FROM moved
         ON CONFLICT (school_id, student_ref, client_id, claims, day) DO UPDATE SET count = disclosures.count + excluded.count
         RETURNING 1
       )
       SELECT count(*)::int AS n FROM merged`,
      [school, legacy, ref],
    );
    const kept = await tx.query(
      `DELETE FROM objections o WHERE school_id = $1 AND student_ref = $2 AND ref_version = 1 AND EXISTS (
         SELECT 1 FROM objections n WHERE n.school_id = $1 AND n.student_ref = $3
           AND coalesce(n.client_id, '') = coalesce(o.client_id, '') AND coalesce(n.supplier_id, '') = coalesce(o.supplier_id, ''))
       RETURNING 1`,
      [school, legacy, ref],
    );
    const objections = await tx.query('UPDATE objections SET student_ref = $3, ref_version = 2 WHERE school_id = $1 AND student_ref = $2 AND ref_version = 1 RETURNING 1', [school, legacy, ref]);
    return { disclosures: Number(ledger?.n ?? 0), objections: kept.length + objections.length };
  });
}
