import { readFile } from 'node:fs/promises';
import { sha256 } from '../crypto/tokens.js';
import { createLocalJWKSet } from 'jose';
import { remoteKeySources, type KeyLookup } from '../outbound/remote-keys.js';
import type { ClientReg, LicenceReg, SchoolReg, Seed, SupplierReg } from './seed-schema.js';
import { seedSchema } from './seed-schema.js';
import { GENERATE_SECRET } from './client-secrets.js';
import { objectionIndex, type ObjectionTarget, type ObjectsTo } from '../privacy/objections.js';

// The in-process snapshot the login path reads (DESIGN.md section 2): no I/O
// on the hot path except a school's or client's remote JWKS, fetched and
// cached by src/outbound/remote-keys.ts (docs/remote-jwks.md).

export interface School extends Omit<SchoolReg, 'jwks' | 'jwksUri'> {
  readonly keys: KeyLookup;
}

export type Supplier = SupplierReg;

export interface Client extends Omit<ClientReg, 'jwks' | 'jwksUri' | 'clientSecret'> {
  readonly keys?: KeyLookup;
  /** SHA-256 of the client secret: the secret itself is never kept. */
  readonly secretHash?: Buffer;
}

export type Licence = LicenceReg;

export interface Registry {
  readonly schools: ReadonlyMap<string, School>;
  readonly schoolsByIssuer: ReadonlyMap<string, readonly School[]>;
  readonly suppliers: ReadonlyMap<string, Supplier>;
  readonly clients: ReadonlyMap<string, Client>;
  licencesFor(school: string, clientId: string): readonly Licence[];
  /** Parents' objections (DESIGN.md section 7): true when this pupil's data must not go to this client. */
  objectsTo: ObjectsTo;
}

/** A client as stored: the secret replaced by its SHA-256 (hex), never kept itself. */
export type StoredClient = Omit<ClientReg, 'clientSecret'> & { clientSecret?: string; secretHash?: string };

/** Registrations as the database holds them (a seed whose client secrets are hashed). */
export type StoredSeed = Omit<Seed, 'clients'> & { clients: StoredClient[] };

export class SeedError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid seed file:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'SeedError';
  }
}

export { KeysUnavailableError } from '../outbound/remote-keys.js';

/** Where a registration's keys come from: its inline `jwks`, or its `jwksUri` through the process's remote key sets. */
export type RemoteKeysAt = (uri: string) => KeyLookup;

function keySource(reg: { jwks?: SchoolReg['jwks'] | undefined; jwksUri?: string | undefined }, remoteKeysAt: RemoteKeysAt): KeyLookup | undefined {
  if (reg.jwks) return createLocalJWKSet({ keys: reg.jwks.keys.map(sameAlgorithmNames) } as Parameters<typeof createLocalJWKSet>[0]);
  if (reg.jwksUri) return remoteKeysAt(reg.jwksUri);
  return undefined;
}

let productionRemoteKeys: RemoteKeysAt | undefined;
/** Without a configured source: production rules, nothing allowed beyond them. */
const defaultRemoteKeys: RemoteKeysAt = (uri) => (productionRemoteKeys ??= remoteKeySources({ production: true }))(uri);

/**
 * "EdDSA" and RFC 9864's "Ed25519" name one algorithm for an Ed25519 key; a key
 * registered under either name must verify tokens signed under the other.
 */
function sameAlgorithmNames<K extends { kty: string; alg?: string | undefined }>(jwk: K): K {
  if (jwk.kty !== 'OKP' || (jwk.alg !== 'EdDSA' && jwk.alg !== 'Ed25519')) return jwk;
  const { alg: _alg, ...rest } = jwk;
  return rest as K;
}

export const hashSecret = (secret: string): Buffer => sha256(secret);

/** Every cross-reference problem of a schema-valid seed, in one list. */
export function seedProblems(seed: Seed | StoredSeed): string[] {
  const problems: string[] = [];
  const duplicates = (label: string, ids: string[]) => {
    const seen = new Set<string>();
    for (const id of ids) {
      if (seen.has(id)) problems.push(`${label}: duplicate id ${JSON.stringify(id)}`);
      seen.add(id);
    }
  };
  duplicates('schools', seed.schools.map((s) => s.id));
  duplicates('suppliers', seed.suppliers.map((s) => s.id));
  duplicates('clients', seed.clients.map((c) => c.clientId));

  const suppliers = new Set(seed.suppliers.map((s) => s.id));
  const schools = new Set(seed.schools.map((s) => s.id));
  const clients = new Map(seed.clients.map((c) => [c.clientId, c]));
  seed.clients.forEach((c, i) => {
    if (!suppliers.has(c.supplier)) problems.push(`clients.${i}.supplier: unknown supplier ${JSON.stringify(c.supplier)}`);
  });
  seed.licences.forEach((l, i) => {
    if (!schools.has(l.school)) problems.push(`licences.${i}.school: unknown school ${JSON.stringify(l.school)}`);
    const client = clients.get(l.client);
    if (!client) {
      problems.push(`licences.${i}.client: unknown client ${JSON.stringify(l.client)}`);
      return;
    }
    const outside = l.claims.filter((c) => !client.claims.includes(c));
    if (outside.length) {
      problems.push(`licences.${i}.claims: ${outside.join(', ')} outside the client's claims (${client.claims.join(', ') || 'none'})`);
    }
  });
  return problems;
}

export function buildRegistry(seed: Seed | StoredSeed, objections: readonly ObjectionTarget[] = [], remoteKeysAt: RemoteKeysAt = defaultRemoteKeys): Registry {
  const problems = seedProblems(seed);
  if (problems.length) throw new SeedError(problems);

  const schools = new Map<string, School>();
  const schoolsByIssuer = new Map<string, School[]>();
  for (const { jwks, jwksUri, ...reg } of seed.schools) {
    const school: School = Object.freeze({ ...reg, keys: keySource({ jwks, jwksUri }, remoteKeysAt)! });
    schools.set(school.id, school);
    schoolsByIssuer.set(school.issuer, [...(schoolsByIssuer.get(school.issuer) ?? []), school]);
  }

  const clients = new Map<string, Client>();
  for (const { jwks, jwksUri, clientSecret, secretHash, ...reg } of seed.clients as StoredClient[]) {
    const keys = keySource({ jwks, jwksUri }, remoteKeysAt);
    // "generate" is a request, never a secret: resolved at import (store/seed-import.ts) or by the admin API.
    const literal = clientSecret === GENERATE_SECRET ? undefined : clientSecret;
    const hash = literal ? hashSecret(literal) : secretHash ? Buffer.from(secretHash, 'hex') : undefined;
    clients.set(reg.clientId, Object.freeze({
      ...reg,
      ...(keys ? { keys } : {}),
      ...(hash ? { secretHash: hash } : {}),
    }));
  }

  const licences = new Map<string, Licence[]>();
  for (const licence of seed.licences) {
    const key = `${licence.school}\0${licence.client}`;
    licences.set(key, [...(licences.get(key) ?? []), Object.freeze(licence)]);
  }

  return Object.freeze({
    schools,
    schoolsByIssuer,
    suppliers: new Map(seed.suppliers.map((s) => [s.id, Object.freeze(s)])),
    clients,
    licencesFor: (school: string, clientId: string) => licences.get(`${school}\0${clientId}`) ?? [],
    objectsTo: objectionIndex(objections),
  });
}

/** The same registrations (and their JWKS caches) with another set of objections. */
export const withObjections = (registry: Registry, objections: readonly ObjectionTarget[]): Registry =>
  Object.freeze({ ...registry, objectsTo: objectionIndex(objections) });

/** Parse and check a seed document; throws SeedError listing every problem. */
export function parseSeed(document: unknown): Seed {
  const parsed = seedSchema.safeParse(document);
  if (!parsed.success) {
    throw new SeedError(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  const problems = seedProblems(parsed.data);
  if (problems.length) throw new SeedError(problems);
  return parsed.data;
}

export async function loadSeedFile(path: string): Promise<Seed> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new SeedError([`${path}: cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (err) {
    throw new SeedError([`${path}: not valid JSON (${(err as Error).message})`]);
  }
  return parseSeed(document);
}

export const emptySeed = (): Seed => ({ schools: [], suppliers: [], clients: [], licences: [] });
