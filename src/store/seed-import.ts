import type { Db, Queryable } from './db.js';
import { recordAudit } from './audit.js';
import { licencesFor, putLicence, deleteLicence } from './licences.js';
import { getRegistration, putRegistration, type RegistrationKind } from './registrations.js';
import { hashSecret } from './registry.js';
import type { StoredClient } from './seed-file.js';
import type { ClientReg, LicenceReg, Seed } from './seed-schema.js';
import { stableJson } from './stable-json.js';
import { GENERATE_SECRET, withGeneratedSecret } from './client-secrets.js';
import { randomUUID } from 'node:crypto';

// The seed file as an idempotent import (docs/registrations.md): registrations
// are inserted or replaced by id, and each (school, client) pair the seed names
// gets exactly the seed's licences. Unchanged rows are left alone, so a restart
// with the same seed writes nothing and audits nothing. The seed has been
// checked by parseSeed (registry.ts) before it gets here.

// Serialises imports of processes starting together.
const IMPORT_LOCK_KEY = 7_245_114_202;

/** The client as stored: its secret replaced by the secret's SHA-256. */
export function toStoredClient({ clientSecret, ...client }: ClientReg): StoredClient {
  return clientSecret ? { ...client, secretHash: hashSecret(clientSecret).toString('hex') } : client;
}

/** The client as shown and audited: how it authenticates, never its secret's hash. */
export function describeClient({ secretHash, ...client }: StoredClient): Omit<StoredClient, 'secretHash'> & { authMethod: 'private_key_jwt' | 'client_secret_basic' } {
  return { ...client, authMethod: secretHash ? 'client_secret_basic' : 'private_key_jwt' };
}

/** What an audit event records of a registration document. */
const auditDoc = (kind: RegistrationKind, doc: object | undefined): object | null =>
  doc === undefined ? null : kind === 'client' ? describeClient(doc as StoredClient) : doc;

/** A client secret made at import because the seed asked for one: shown once by the caller, never stored. */
export interface GeneratedSecret {
  readonly clientId: string;
  readonly secret: string;
}

/**
 * The client as the import stores it. `"generate"` keeps the secret already
 * stored for the client, so an unchanged seed changes nothing; only a client
 * without one gets a fresh secret.
 */
async function storedClientOf(tx: Queryable, client: ClientReg, generated: GeneratedSecret[]): Promise<StoredClient> {
  if (client.clientSecret !== GENERATE_SECRET) return toStoredClient(client);
  const { clientSecret: _generate, ...rest } = client;
  const current = await getRegistration<StoredClient>(tx, 'client', client.clientId);
  if (current?.doc.secretHash) return { ...rest, secretHash: current.doc.secretHash };
  const { reg, secret } = withGeneratedSecret(client);
  generated.push({ clientId: client.clientId, secret: secret! });
  return toStoredClient(reg);
}

export async function importSeed(db: Db, seed: Seed, actor = 'seed'): Promise<{ changes: number; generated: GeneratedSecret[] }> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [IMPORT_LOCK_KEY]);
    let changes = 0;
    const generated: GeneratedSecret[] = [];
    const put = async (kind: RegistrationKind, id: string, doc: object, school: string | null, supplierId?: string) => {
      const current = await getRegistration(tx, kind, id);
      if (current && stableJson(current.doc) === stableJson(doc)) return;
      await putRegistration(tx, kind, id, doc, supplierId);
      await recordAudit(tx, { actor, school, action: `${kind}.import`, target: `${kind}:${id}`, before: auditDoc(kind, current?.doc as object | undefined), after: auditDoc(kind, doc) });
      changes++;
    };
    for (const school of seed.schools) await put('school', school.id, school, school.id);
    for (const supplier of seed.suppliers) await put('supplier', supplier.id, supplier, null);
    for (const client of seed.clients) await put('client', client.clientId, await storedClientOf(tx, client, generated), null, client.supplier);
    for (const [pair, wanted] of groupByPair(seed.licences)) changes += await replaceLicences(tx, pair, wanted, actor);
    return { changes, generated };
  });
}

function groupByPair(licences: LicenceReg[]): Map<string, LicenceReg[]> {
  const pairs = new Map<string, LicenceReg[]>();
  for (const l of licences) pairs.set(`${l.school}\0${l.client}`, [...(pairs.get(`${l.school}\0${l.client}`) ?? []), l]);
  return pairs;
}

async function replaceLicences(tx: Queryable, pair: string, wanted: LicenceReg[], actor: string): Promise<number> {
  const [school, client] = pair.split('\0') as [string, string];
  const existing = await licencesFor(tx, school, client);
  const canonical = (ls: LicenceReg[]) => ls.map(stableJson).sort().join('\n');
  if (canonical(existing.map((e) => e.licence)) === canonical(wanted)) return 0;
  for (const e of existing) await deleteLicence(tx, school, e.id);
  for (const l of wanted) await putLicence(tx, randomUUID(), l);
  await recordAudit(tx, { actor, school, action: 'licence.import', target: `licences:${school}/${client}`, before: existing.map((e) => e.licence), after: wanted });
  return 1;
}
