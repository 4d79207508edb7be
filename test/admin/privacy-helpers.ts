import type { Queryable } from '../../src/store/db.js';

/** A pupil's ledger rows as stored, oldest day first. */
export const ledgerRows = (db: Queryable, ref: string) =>
  db.query<{ client: string; supplier: string; claims: string; day: string; count: number }>(
    'SELECT client_id AS client, supplier_id AS supplier, claims, day::text AS day, count FROM disclosures WHERE student_ref = $1 ORDER BY day, client_id',
    [ref],
  );

/** Every row of every table of the schema, as text: what an erasure must leave without the pupil. */
export async function everyTableText(db: Queryable): Promise<string> {
  const tables = await db.query<{ name: string }>(
    "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name",
  );
  if (!tables.some((t) => t.name === 'disclosures')) throw new Error('no tables found: wrong schema');
  const texts = await Promise.all(tables.map(async ({ name }) => (await db.query<{ t: string | null }>(`SELECT string_agg(x::text, '\n') AS t FROM "${name}" x`))[0]?.t ?? ''));
  return texts.join('\n');
}
