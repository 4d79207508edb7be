import type { Queryable } from '../store/db.js';

// The disclosure ledger's table (docs/privacy.md; migrations 002, 004):
// what was released to whom, per pupil and school day, by student ref and
// claim names only. Every read and write names the school.

/** One release, or several of the same set on the same day (`count`). */
export interface Disclosure {
  readonly school: string;
  /** Lower-case hex HMAC(k_ref, "ref\0" || root) (docs/pseudonyms.md); a version-1 row has the first form. */
  readonly studentRef: string;
  readonly client: string;
  readonly supplier: string;
  /** Released claim names, sorted. */
  readonly claims: readonly string[];
  /** The Dutch school day, YYYY-MM-DD. */
  readonly day: string;
}

/** The claim set as the table keeps it: sorted names joined with ','. */
export const claimSet = (claims: readonly string[]): string => [...claims].sort().join(',');
export const claimNames = (set: string): string[] => (set === '' ? [] : set.split(','));

/** What makes one ledger row: the same pupil, client, claim set and day. */
export const disclosureKey = (d: Disclosure): string => `${d.studentRef}:${d.day}:${d.client}:${claimSet(d.claims)}`;

const columns = (rows: readonly DisclosureRow[]) => [
  rows.map((r) => r.school),
  rows.map((r) => r.studentRef),
  rows.map((r) => r.client),
  rows.map((r) => r.supplier),
  rows.map((r) => claimSet(r.claims)),
  rows.map((r) => r.day),
  rows.map((r) => r.count),
];

/**
 * Record releases durably, as one statement for a whole batch (group commit).
 * Rows that exist already count up. Rows of one batch must have distinct keys.
 * Every row this release writes has a ref of version 2 (migration 004).
 */
export async function insertDisclosures(q: Queryable, rows: readonly DisclosureRow[]): Promise<void> {
  if (!rows.length) return;
  await q.query(
    `INSERT INTO disclosures (school_id, student_ref, client_id, supplier_id, claims, day, count, ref_version)
     SELECT *, 2 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::date[], $7::int[])
     ON CONFLICT (school_id, student_ref, client_id, claims, day) DO UPDATE SET count = disclosures.count + excluded.count`,
    columns(rows),
  );
}

/**
 * Count further releases of rows already recorded. Only updates: a row erased
 * meanwhile stays erased.
 */
export async function addDisclosureCounts(q: Queryable, rows: readonly DisclosureRow[]): Promise<void> {
  if (!rows.length) return;
  await q.query(
    `UPDATE disclosures d SET count = d.count + u.count
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::date[], $7::int[])
       AS u(school_id, student_ref, client_id, supplier_id, claims, day, count)
     WHERE d.school_id = u.school_id AND d.student_ref = u.student_ref AND d.client_id = u.client_id
       AND d.claims = u.claims AND d.day = u.day`,
    columns(rows),
  );
}

/** A ledger row: a disclosure and how often it was released that day. */
export type DisclosureRow = Disclosure & { readonly count: number };

interface Row {
  school_id: string;
  student_ref: string;
  client_id: string;
  supplier_id: string;
  claims: string;
  day: string;
  count: number;
}

const ROW_COLUMNS = 'school_id, student_ref, client_id, supplier_id, claims, day::text AS day, count';

const toRow = (r: Row): DisclosureRow => ({
  school: r.school_id, studentRef: r.student_ref, client: r.client_id, supplier: r.supplier_id,
  claims: claimNames(r.claims), day: String(r.day), count: Number(r.count),
});

/** The school day `days` calendar days before `day` (both YYYY-MM-DD): date arithmetic, no time zone. */
export function daysBefore(day: string, days: number): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d - days)).toISOString().slice(0, 10);
}

/** Erasure: remove every ledger row of one pupil of one school, under any of its refs; returns them (their KV markers go too). */
export async function deleteDisclosuresOf(tx: Queryable, school: string, refs: readonly string[]): Promise<DisclosureRow[]> {
  const rows = await tx.query<Row>(
    `DELETE FROM disclosures WHERE school_id = $1 AND student_ref = ANY($2::text[]) RETURNING ${ROW_COLUMNS}`,
    [school, refs],
  );
  return rows.map(toRow);
}

/** Retention: remove every row of a day before `firstKept` (YYYY-MM-DD); returns how many. */
export async function purgeDisclosuresBefore(q: Queryable, firstKept: string): Promise<number> {
  const rows = await q.query<{ n: number }>(
    'WITH gone AS (DELETE FROM disclosures WHERE day < $1::date RETURNING 1) SELECT count(*)::int AS n FROM gone',
    [firstKept],
  );
  return rows[0]?.n ?? 0;
}
