import type { RosterKeys } from '../crypto/key-schedule.js';
import type { Queryable } from '../store/db.js';
import { yieldToLoop } from './problems.js';
import type { RosterPerson } from './person.js';
import { loginHashes, openSealed, sealPerson } from './seal.js';

// Writing a school's roster inside the caller's transaction (docs/roster.md):
// a full sync and a delta both come down to "these people are written, these
// are removed". Only what changed is written: a daily sync of an unchanged
// roster reads every row and writes none. Keys travel as hex and are decoded
// in SQL, so both database adapters pass them the same way.

/** A validated person with what finds them: sealed and hashed only if written (an unchanged person costs no AES). */
export interface PreparedPerson {
  /** Hex of the key hash. */
  readonly keyHash: string;
  /** The canonical JSON: compared with the stored one, sealed when written, never stored in clear. */
  readonly canonical: string;
  readonly person: RosterPerson;
}

/** Hex of every login hash of the person, each once. */
export const loginHashesOf = (keys: RosterKeys, person: RosterPerson): string[] => [...new Set(loginHashes(keys, person.logins).map((h) => h.toString('hex')))];

export interface RosterCounts {
  added: number;
  changed: number;
  unchanged: number;
  removed: number;
}

export interface WriteProgress {
  (written: number): void;
}

// Each statement well inside the PostgreSQL adapter's 5 s query timeout, even on a busy machine.
const BATCH = 500;
const READ_PAGE = 5_000;
/** Rows opened between two turns of the event loop (logins go on meanwhile). */
const SLICE = 1_000;

interface StoredRow {
  key_hash: string;
  sealed: Uint8Array;
  removed: boolean;
}

/** The school's rows in key-hash order, a page at a time (a whole school never sits in one result). */
export async function* storedRows(q: Queryable, school: string, only?: readonly string[]): AsyncGenerator<StoredRow> {
  let after = '';
  for (;;) {
    const rows = await q.query<StoredRow>(
      `SELECT encode(key_hash, 'hex') AS key_hash, sealed, removed_at IS NOT NULL AS removed FROM roster_people
       WHERE school_id = $1 AND key_hash > decode($2, 'hex') ${only ? "AND key_hash = ANY(SELECT decode(h, 'hex') FROM unnest($4::text[]) AS h)" : ''}
       ORDER BY key_hash LIMIT $3`,
      only ? [school, after, READ_PAGE, only] : [school, after, READ_PAGE],
    );
    yield* rows;
    if (rows.length < READ_PAGE) return;
    after = rows[rows.length - 1]!.key_hash;
  }
}

interface Plan {
  write: PreparedPerson[];
  /** People whose login rows go: changed and removed ones. */
  dropLogins: string[];
  remove: string[];
  counts: RosterCounts;
}

/** Sort the wanted people against the stored ones: added, changed, unchanged; and, for a full sync, removed. */
async function plan(q: Queryable, keys: RosterKeys, school: string, wanted: readonly PreparedPerson[], removes: readonly string[] | 'absent'): Promise<Plan> {
  const byHash = new Map(wanted.map((p) => [p.keyHash, p]));
  const removeSet = new Set(removes === 'absent' ? [] : removes);
  const out: Plan = { write: [], dropLogins: [], remove: [], counts: { added: 0, changed: 0, unchanged: 0, removed: 0 } };
  const seen = new Set<string>();
  const only = removes === 'absent' ? undefined : [...byHash.keys(), ...removeSet];
  for await (const row of storedRows(q, school, only)) {
    if (seen.size % SLICE === SLICE - 1) await yieldToLoop();
    seen.add(row.key_hash);
    const next = byHash.get(row.key_hash);
    if (!next) {
      if (!row.removed && (removes === 'absent' || removeSet.has(row.key_hash))) out.remove.push(row.key_hash);
    } else if (row.removed) {
      out.write.push(next);
      out.counts.added++;
    } else if (openSealed(keys, school, Buffer.from(row.key_hash, 'hex'), row.sealed) === next.canonical) {
      out.counts.unchanged++;
    } else {
      out.write.push(next);
      out.dropLogins.push(next.keyHash);
      out.counts.changed++;
    }
  }
  for (const person of wanted) {
    if (seen.has(person.keyHash)) continue;
    out.write.push(person);
    out.counts.added++;
  }
  out.dropLogins.push(...out.remove);
  out.counts.removed = out.remove.length;
  return out;
}

async function inBatches<T>(items: readonly T[], fn: (batch: T[]) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += BATCH) await fn(items.slice(i, i + BATCH));
}

const HEX_ARRAY = (n: number) => `(SELECT decode(h, 'hex') FROM unnest($${n}::text[]) AS h)`;

async function apply(tx: Queryable, keys: RosterKeys, school: string, p: Plan, now: Date, progress: WriteProgress): Promise<void> {
  await inBatches(p.dropLogins, (batch) => tx.query(`DELETE FROM roster_logins WHERE school_id = $1 AND key_hash = ANY${HEX_ARRAY(2)}`, [school, batch]).then(() => undefined));
  await inBatches(p.remove, (batch) =>
    tx.query(`UPDATE roster_people SET removed_at = $3 WHERE school_id = $1 AND key_hash = ANY${HEX_ARRAY(2)}`, [school, batch, now]).then(() => undefined));
  let written = 0;
  await inBatches(p.write, async (batch) => {
    const sealed = batch.map((b) => sealPerson(keys, school, Buffer.from(b.keyHash, 'hex'), b.person).toString('base64'));
    await tx.query(
      `INSERT INTO roster_people (school_id, key_hash, sealed, updated_at)
       SELECT $1, decode(k, 'hex'), decode(s, 'base64'), $4 FROM unnest($2::text[], $3::text[]) AS t(k, s)
       ON CONFLICT (school_id, key_hash) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at, removed_at = NULL`,
      [school, batch.map((b) => b.keyHash), sealed, now],
    );
    const logins = batch.flatMap((b) => loginHashesOf(keys, b.person).map((h) => [h, b.keyHash] as const));
    if (logins.length) {
      await tx.query(
        `INSERT INTO roster_logins (school_id, login_hash, key_hash) SELECT $1, decode(l, 'hex'), decode(k, 'hex') FROM unnest($2::text[], $3::text[]) AS t(l, k)`,
        [school, logins.map((l) => l[0]), logins.map((l) => l[1])],
      );
    }
    written += batch.length;
    progress(written);
  });
}

/** A full sync: the roster becomes exactly `people`; everyone else on it is removed (stops logging in now). */
export async function replaceRoster(tx: Queryable, keys: RosterKeys, school: string, people: readonly PreparedPerson[], now: Date, progress: WriteProgress): Promise<RosterCounts> {
  const p = await plan(tx, keys, school, people, 'absent');
  await apply(tx, keys, school, p, now, progress);
  return p.counts;
}

/** A delta: `upserts` are written, `removes` (key hashes) removed; nobody else is touched. */
export async function applyDelta(tx: Queryable, keys: RosterKeys, school: string, upserts: readonly PreparedPerson[], removes: readonly string[], now: Date, progress: WriteProgress): Promise<RosterCounts> {
  const p = await plan(tx, keys, school, upserts, removes);
  await apply(tx, keys, school, p, now, progress);
  return p.counts;
}

/** The login hashes among `hashes` that belong to someone outside `owners` (hex key hashes): a delta's conflicts. */
export async function loginsHeldByOthers(q: Queryable, school: string, hashes: readonly string[], owners: ReadonlySet<string>): Promise<Set<string>> {
  const held = new Set<string>();
  await inBatches(hashes, async (batch) => {
    const rows = await q.query<{ login: string; owner: string }>(
      `SELECT encode(login_hash, 'hex') AS login, encode(key_hash, 'hex') AS owner FROM roster_logins WHERE school_id = $1 AND login_hash = ANY${HEX_ARRAY(2)}`,
      [school, batch],
    );
    for (const r of rows) if (!owners.has(r.owner)) held.add(r.login);
  });
  return held;
}
