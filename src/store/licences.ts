import type { Queryable } from './db.js';
import type { Page } from './registrations.js';
import type { LicenceReg } from './seed-schema.js';

// A school's licences. Every read and write names the school, so a licence id
// of another school is simply not found.

export interface StoredLicence {
  id: string;
  licence: LicenceReg;
  createdAt: string;
  updatedAt: string;
}

interface LicenceRow {
  id: string;
  doc: LicenceReg;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'id, doc, created_at, updated_at';
const toStored = (r: LicenceRow): StoredLicence => ({ id: r.id, licence: r.doc, createdAt: r.created_at.toISOString(), updatedAt: r.updated_at.toISOString() });

export async function listLicences(q: Queryable, school: string, page: Page): Promise<{ items: StoredLicence[]; total: number }> {
  // Creation order, id as the tie-breaker: pages stay stable while licences are added.
  const rows = await q.query<LicenceRow>(`SELECT ${COLUMNS} FROM licences WHERE school_id = $1 ORDER BY created_at, id LIMIT $2 OFFSET $3`, [school, page.limit, page.offset]);
  const [count] = await q.query<{ n: number }>('SELECT count(*)::int AS n FROM licences WHERE school_id = $1', [school]);
  return { items: rows.map(toStored), total: count?.n ?? 0 };
}

export async function getLicence(q: Queryable, school: string, id: string, forUpdate = false): Promise<StoredLicence | undefined> {
  const rows = await q.query<LicenceRow>(`SELECT ${COLUMNS} FROM licences WHERE school_id = $1 AND id = $2${forUpdate ? ' FOR UPDATE' : ''}`, [school, id]);
  return rows[0] && toStored(rows[0]);
}

/** The school's licences for one client (other than `except`), for the overlap rule. */
export async function licencesFor(q: Queryable, school: string, client: string, except?: string): Promise<StoredLicence[]> {
  const rows = await q.query<LicenceRow>(`SELECT ${COLUMNS} FROM licences WHERE school_id = $1 AND client_id = $2 AND id <> $3 ORDER BY created_at, id`, [school, client, except ?? '00000000-0000-0000-0000-000000000000']);
  return rows.map(toStored);
}

export async function allLicences(q: Queryable): Promise<LicenceReg[]> {
  return (await q.query<{ doc: LicenceReg }>('SELECT doc FROM licences ORDER BY school_id, client_id, created_at, id')).map((r) => r.doc);
}

export async function putLicence(tx: Queryable, id: string, licence: LicenceReg): Promise<void> {
  await tx.query(
    `INSERT INTO licences (id, school_id, client_id, doc, valid_from, valid_until) VALUES ($1, $2, $3, $4::jsonb, $5, $6)
     ON CONFLICT (id) DO UPDATE SET client_id = EXCLUDED.client_id, doc = EXCLUDED.doc, valid_from = EXCLUDED.valid_from,
       valid_until = EXCLUDED.valid_until, updated_at = now()`,
    [id, licence.school, licence.client, JSON.stringify(licence), licence.validFrom ?? null, licence.validUntil ?? null],
  );
}

export async function deleteLicence(tx: Queryable, school: string, id: string): Promise<LicenceReg | undefined> {
  const rows = await tx.query<{ doc: LicenceReg }>('DELETE FROM licences WHERE school_id = $1 AND id = $2 RETURNING doc', [school, id]);
  return rows[0]?.doc;
}

/** Two validity periods overlap; an absent bound is open-ended. */
export function periodsOverlap(a: Pick<LicenceReg, 'validFrom' | 'validUntil'>, b: Pick<LicenceReg, 'validFrom' | 'validUntil'>): boolean {
  const startsBeforeOtherEnds = (x: typeof a, y: typeof b) => !x.validFrom || !y.validUntil || x.validFrom <= y.validUntil;
  return startsBeforeOtherEnds(a, b) && startsBeforeOtherEnds(b, a);
}
