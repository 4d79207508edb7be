import type { Queryable } from '../store/db.js';
import { claimNames } from './disclosures.js';

// Breach scope (docs/resolution-and-breach.md): after a breach at a supplier
// (or at one of its products), which pupils had data released there in a
// period, and which claims. The ledger names pupils by student ref only, so a
// school asks with the refs of its roster; the operator sees counts per school.

/** What the breach concerns: every product of one supplier, or one product. */
export type BreachTarget = { supplier: string } | { client: string };

export interface BreachPeriod {
  target: BreachTarget;
  /** First and last school day, YYYY-MM-DD, both included. */
  from: string;
  until: string;
}

export interface AffectedRef {
  studentRef: string;
  clients: string[];
  claims: string[];
  firstDay: string;
  lastDay: string;
}

export interface SchoolCount {
  school: string;
  pupils: number;
  claims: string[];
}

const targetColumn = (target: BreachTarget): { column: 'supplier_id' | 'client_id'; id: string } =>
  'supplier' in target ? { column: 'supplier_id', id: target.supplier } : { column: 'client_id', id: target.client };

/** The union of the claim sets, sorted. */
const unionOf = (sets: readonly string[]): string[] => [...new Set(sets.flatMap(claimNames))].sort();

interface AffectedRow {
  student_ref: string;
  clients: string[];
  claim_sets: string[];
  first_day: string;
  last_day: string;
}

/** The refs among `refs` with disclosures at the target in the period, one entry per ref. */
export async function affectedRefs(q: Queryable, school: string, period: BreachPeriod, refs: readonly string[]): Promise<AffectedRef[]> {
  const { column, id } = targetColumn(period.target);
  const rows = await q.query<AffectedRow>(
    `SELECT student_ref, array_agg(DISTINCT client_id ORDER BY client_id) AS clients, array_agg(DISTINCT claims) AS claim_sets,
            min(day)::text AS first_day, max(day)::text AS last_day
     FROM disclosures
     WHERE school_id = $1 AND ${column} = $2 AND day BETWEEN $3::date AND $4::date AND student_ref = ANY($5::text[])
     GROUP BY student_ref`,
    [school, id, period.from, period.until, refs],
  );
  return rows.map((r) => ({ studentRef: r.student_ref, clients: r.clients, claims: unionOf(r.claim_sets), firstDay: r.first_day, lastDay: r.last_day }));
}

interface CountRow {
  school_id: string;
  pupils: number;
  claim_sets: string[];
}

/** Per school: how many pupils had disclosures at the target in the period, and the claims released. */
export async function affectedCountsBySchool(q: Queryable, period: BreachPeriod): Promise<SchoolCount[]> {
  const { column, id } = targetColumn(period.target);
  const rows = await q.query<CountRow>(
    `SELECT school_id, count(DISTINCT student_ref)::int AS pupils, array_agg(DISTINCT claims) AS claim_sets
     FROM disclosures WHERE ${column} = $1 AND day BETWEEN $2::date AND $3::date
     GROUP BY school_id ORDER BY school_id`,
    [id, period.from, period.until],
  );
  return rows.map((r) => ({ school: r.school_id, pupils: Number(r.pupils), claims: unionOf(r.claim_sets) }));
}

/**
 * Whether the ledger recorded a release to the target (at one school, or anywhere): a
 * supplier or client whose registration was removed since is still known here.
 */
export async function ledgerKnows(q: Queryable, target: BreachTarget, school: string | null): Promise<boolean> {
  const { column, id } = targetColumn(target);
  const rows = await q.query(`SELECT 1 FROM disclosures WHERE ${column} = $1 AND ($2::text IS NULL OR school_id = $2) LIMIT 1`, [id, school]);
  return rows.length > 0;
}
