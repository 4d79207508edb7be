import type { Queryable } from '../store/db.js';
import { claimNames } from './disclosures.js';
import { objectionsOf, type StoredObjection } from './objection-store.js';

// An access request (inzage, AVG article 15): everything the ledger holds of
// one pupil, grouped per product, supplier and released claim set, with the
// pupil's objections. Names come from the current registrations; a product
// deleted since is still listed, by id, without a name.

export interface DisclosureSummary {
  client: string;
  clientName: string | null;
  supplier: string;
  supplierName: string | null;
  claims: string[];
  firstDay: string;
  lastDay: string;
  count: number;
}

export interface AccessRequest {
  disclosures: DisclosureSummary[];
  objections: StoredObjection[];
}

interface SummaryRow {
  client_id: string;
  client_name: string | null;
  supplier_id: string;
  supplier_name: string | null;
  claims: string;
  first_day: string;
  last_day: string;
  count: number;
}

/** Under all the pupil's refs (the ref and, during the transition, its first form): one summary per product and claim set. */
export async function disclosuresSummary(q: Queryable, school: string, refs: readonly string[]): Promise<DisclosureSummary[]> {
  const rows = await q.query<SummaryRow>(
    `SELECT d.client_id, c.doc->>'name' AS client_name, d.supplier_id, s.doc->>'name' AS supplier_name, d.claims,
            min(d.day)::text AS first_day, max(d.day)::text AS last_day, sum(d.count)::int AS count
     FROM disclosures d LEFT JOIN clients c ON c.id = d.client_id LEFT JOIN suppliers s ON s.id = d.supplier_id
     WHERE d.school_id = $1 AND d.student_ref = ANY($2::text[])
     GROUP BY d.client_id, c.doc->>'name', d.supplier_id, s.doc->>'name', d.claims
     ORDER BY d.client_id, d.supplier_id, d.claims`,
    [school, refs],
  );
  return rows.map((r) => ({
    client: r.client_id, clientName: r.client_name, supplier: r.supplier_id, supplierName: r.supplier_name,
    claims: claimNames(r.claims), firstDay: r.first_day, lastDay: r.last_day, count: Number(r.count),
  }));
}

export async function accessRequest(q: Queryable, school: string, refs: readonly string[]): Promise<AccessRequest> {
  return { disclosures: await disclosuresSummary(q, school, refs), objections: await objectionsOf(q, school, refs) };
}
