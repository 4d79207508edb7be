import type { Queryable } from '../store/db.js';
import { claimNames } from './disclosures.js';

// Breach scope (docs/resolution-and-breach.md): after a breach at a supplier
// (or at one of its products), which pupils had data released there in a
// period, and which claims. The ledger names pupils by student ref only, so a
// school asks with the refs of its roster (each pupil under both forms during
// the transition, docs/pseudonyms.md); the operator sees counts per school.

/** What the breach concerns: every product of one supplier, or one product. */
export type BreachTarget = { supplier: string } | { client: string };

export interface BreachPeriod {
  target: BreachTarget;
  /** First and last school day, YYYY-MM-DD, both included. */
  from: string;
  until: string;
}

export interface AffectedPupil {
  /** The pupil's position in the roster asked about. */
  position: number;
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
  position: number;
  clients: string[];
  claim_sets: string[];
  first_day: string;
  last_day: string;
}

/** Pupils asked about per statement: a whole school's roster takes a few. */
const PUPILS_PER_QUERY = 5_000;

/**
 * The pupils of a roster, each given by all its refs, with disclosures at the target in the
 * period, in roster order: one entry per pupil, whichever of its refs the rows carry. A pupil
 * given twice (the same ref) is found at its first position only.
 */
export async function affectedPupils(q: Queryable, school: string, period: BreachPeriod, roster: readonly (readonly string[])[]): Promise<AffectedPupil[]> {
  const positionOf = new Map<string, number>();
  roster.forEach((refs, position) => {
    for (const ref of refs) if (!positionOf.has(ref)) positionOf.set(ref, position);
  });
  // In roster order, so a pupil's refs are neighbours and each statement takes whole pupils.
  const pairs = [...positionOf];
  const found: AffectedPupil[] = [];
  for (let start = 0, end = 0; start < pairs.length; start = end) {
    const last = pairs[start]![1] + PUPILS_PER_QUERY;
    while (end < pairs.length && pairs[end]![1] < last) end++;
    found.push(...(await affectedIn(q, school, period, pairs.slice(start, end))));
  }
  return found.sort((x, y) => x.position - y.position);
}

async function affectedIn(q: Queryable, school: string, period: BreachPeriod, pairs: readonly [string, number][]): Promise<AffectedPupil[]> {
  const { column, id } = targetColumn(period.target);
  const rows = await q.query<AffectedRow>(
    `SELECT p.position, array_agg(DISTINCT d.client_id ORDER BY d.client_id) AS clients, array_agg(DISTINCT d.claims) AS claim_sets,
            min(d.day)::text AS first_day, max(d.day)::text AS last_day
     FROM unnest($5::text[], $6::int[]) AS p(ref, position)
     JOIN disclosures d ON d.school_id = $1 AND d.student_ref = p.ref
     WHERE d.${column} = $2 AND d.day BETWEEN $3::date AND $4::date
     GROUP BY p.position`,
    [school, id, period.from, period.until, pairs.map(([ref]) => ref), pairs.map(([, position]) => position)],
  );
  return rows.map((r) => ({ position: Number(r.position), clients: r.clients, claims: unionOf(r.claim_sets), firstDay: r.first_day, lastDay: r.last_day }));
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
