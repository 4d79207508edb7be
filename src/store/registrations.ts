import type { Queryable } from './db.js';

// Schools, suppliers and clients: one row per registration, its document in
// jsonb. Callers validate documents (seed-schema.ts) before they get here.

export type RegistrationKind = 'school' | 'supplier' | 'client';

const TABLE: Record<RegistrationKind, string> = { school: 'schools', supplier: 'suppliers', client: 'clients' };

export interface Stored<D> {
  id: string;
  doc: D;
  createdAt: string;
  updatedAt: string;
}

export interface Page {
  limit: number;
  offset: number;
}

interface DocRow {
  id: string;
  doc: unknown;
  created_at: Date;
  updated_at: Date;
}

const toStored = <D>(row: DocRow): Stored<D> => ({ id: row.id, doc: row.doc as D, createdAt: row.created_at.toISOString(), updatedAt: row.updated_at.toISOString() });

export async function getRegistration<D>(q: Queryable, kind: RegistrationKind, id: string): Promise<Stored<D> | undefined> {
  const rows = await q.query<DocRow>(`SELECT id, doc, created_at, updated_at FROM ${TABLE[kind]} WHERE id = $1`, [id]);
  return rows[0] && toStored<D>(rows[0]);
}

/** One page in id order, and the total count. */
export async function listRegistrations<D>(q: Queryable, kind: RegistrationKind, page: Page): Promise<{ items: Stored<D>[]; total: number }> {
  const rows = await q.query<DocRow>(`SELECT id, doc, created_at, updated_at FROM ${TABLE[kind]} ORDER BY id LIMIT $1 OFFSET $2`, [page.limit, page.offset]);
  const [count] = await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${TABLE[kind]}`);
  return { items: rows.map((r) => toStored<D>(r)), total: count?.n ?? 0 };
}

/** Every registration of a kind, for the snapshot. */
export async function allRegistrations<D>(q: Queryable, kind: RegistrationKind): Promise<D[]> {
  return (await q.query<{ doc: D }>(`SELECT doc FROM ${TABLE[kind]} ORDER BY id`)).map((r) => r.doc);
}

/** Insert or replace; returns the document it replaced, if any. */
export async function putRegistration<D>(tx: Queryable, kind: RegistrationKind, id: string, doc: D, supplierId?: string): Promise<D | undefined> {
  const before = await tx.query<{ doc: D }>(`SELECT doc FROM ${TABLE[kind]} WHERE id = $1 FOR UPDATE`, [id]);
  const json = JSON.stringify(doc);
  if (kind === 'client') {
    await tx.query(
      `INSERT INTO clients (id, supplier_id, doc) VALUES ($1, $2, $3::jsonb)
       ON CONFLICT (id) DO UPDATE SET supplier_id = EXCLUDED.supplier_id, doc = EXCLUDED.doc, updated_at = now()`,
      [id, supplierId, json],
    );
  } else {
    await tx.query(
      `INSERT INTO ${TABLE[kind]} (id, doc) VALUES ($1, $2::jsonb) ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc, updated_at = now()`,
      [id, json],
    );
  }
  return before[0]?.doc;
}

/** Delete; returns the deleted document, if there was one. */
export async function deleteRegistration<D>(tx: Queryable, kind: RegistrationKind, id: string): Promise<D | undefined> {
  const rows = await tx.query<{ doc: D }>(`DELETE FROM ${TABLE[kind]} WHERE id = $1 RETURNING doc`, [id]);
  return rows[0]?.doc;
}
