import { sha256 } from '../crypto/tokens.js';
import { objectionIndex, type ObjectionTarget, type ObjectsTo } from '../privacy/objections.js';
import { defaultRemoteKeys, keySource, type KeyLookup, type RemoteKeysAt } from './jwks-source.js';
import { GENERATE_SECRET } from './client-secrets.js';
import { SeedError, seedProblems, type StoredClient, type StoredSeed } from './seed-file.js';
import type { ClientReg, IDENTITY_CLAIMS, LicenceReg, RosterMode, SchoolLoginReg, SchoolReg, Seed, SupplierReg, UPSTREAM_CLIENT_AUTH } from './seed-schema.js';

// The in-process snapshot the login path reads (docs/architecture.md): every
// registration, ready to use, and no I/O on the hot path except a school's or
// client's remote JWKS (src/store/jwks-source.ts).

/** A school that signs the gateway's login assertion (docs/school-assertion.md). */
export interface AssertionLogin {
  readonly kind: 'assertion';
  readonly issuer: string;
  readonly loginUrl: string;
  readonly keys: KeyLookup;
}

/** A school, or a federation hub's school, that logs in over SAML 2.0 (docs/saml.md); defaults filled in. */
export interface SamlLogin {
  readonly kind: 'saml';
  readonly metadataUrl?: string | undefined;
  readonly metadataXml?: string | undefined;
  /** The identity provider's entity id; the schools registered with it are the BRINs it may assert. */
  readonly entityId: string;
  readonly identityAttribute: string;
  readonly brinAttribute: string;
  readonly attributes: { readonly given_name: string; readonly family_name: string; readonly role: string };
}

/** A school whose people log in at an upstream OpenID provider (docs/upstream-oidc.md). */
export interface OidcLogin {
  readonly kind: 'oidc';
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret?: string | undefined;
  readonly clientAuth: (typeof UPSTREAM_CLIENT_AUTH)[number];
  readonly scopes: readonly string[];
  readonly identityClaim: (typeof IDENTITY_CLAIMS)[number];
  /** Claim values the id_token must carry (a tenant, a domain). */
  readonly require: Readonly<Record<string, string>>;
}

/** How the school's people log in: the login method's registration, ready to use (docs/school-login.md). */
export type SchoolLogin = AssertionLogin | OidcLogin | SamlLogin;
export type LoginKind = SchoolLogin['kind'];

export interface School {
  readonly id: string;
  readonly name: string;
  /** The school's portal may start products (school-started launch). */
  readonly allowLaunch: boolean;
  readonly login: SchoolLogin;
  /** Is the roster consulted at login: an assertion carries everything (none), an upstream login needs it (required) unless registered otherwise. */
  readonly roster: RosterMode;
}

/** A school whose login method is the gateway's assertion. */
export type AssertionSchool = School & { readonly login: AssertionLogin };

/** A school whose login method is SAML 2.0. */
export type SamlSchool = School & { readonly login: SamlLogin };
/** A school whose people log in at an upstream OpenID provider. */
export type OidcSchool = School & { readonly login: OidcLogin };

export type Supplier = SupplierReg;

export interface Client extends Omit<ClientReg, 'jwks' | 'jwksUri' | 'clientSecret'> {
  readonly keys?: KeyLookup;
  /** SHA-256 of the client secret: the secret itself is never kept. */
  readonly secretHash?: Buffer;
}

export type Licence = LicenceReg;

export interface Registry {
  readonly schools: ReadonlyMap<string, School>;
  /** Schools whose login is an assertion, by the issuer that signs it (schools may share one). */
  readonly schoolsByIssuer: ReadonlyMap<string, readonly AssertionSchool[]>;
  /** Schools whose login is SAML, by their identity provider's entity id: the BRINs that provider may assert. */
  readonly schoolsBySamlIdp: ReadonlyMap<string, readonly SamlSchool[]>;
  readonly suppliers: ReadonlyMap<string, Supplier>;
  readonly clients: ReadonlyMap<string, Client>;
  licencesFor(school: string, clientId: string): readonly Licence[];
  /** Parents' objections (docs/privacy.md): true when this pupil's data must not go to this client. */
  objectsTo: ObjectsTo;
}

export const hashSecret = (secret: string): Buffer => sha256(secret);

/** A school's login method, from either registration form (docs/registrations.md). */
export function loginOf(reg: SchoolReg): SchoolLoginReg {
  if (reg.login) return reg.login;
  return { kind: 'assertion', issuer: reg.issuer!, loginUrl: reg.loginUrl!, ...(reg.jwks ? { jwks: reg.jwks } : { jwksUri: reg.jwksUri! }) };
}

function schoolOf(reg: SchoolReg, remoteKeysAt: RemoteKeysAt): School {
  const login = readyLogin(loginOf(reg), remoteKeysAt);
  const roster = reg.roster ?? (login.kind === 'assertion' ? 'none' : 'required');
  return Object.freeze({ id: reg.id, name: reg.name, allowLaunch: reg.allowLaunch ?? false, roster, login: Object.freeze(login) });
}

/** A login method's registration, ready to use: defaults filled in, keys at hand. */
function readyLogin(login: SchoolLoginReg, remoteKeysAt: RemoteKeysAt): SchoolLogin {
  if (login.kind === 'saml') return samlLoginOf(login);
  if (login.kind === 'oidc') return oidcLoginOf(login);
  const { jwks, jwksUri, ...rest } = login;
  return { ...rest, keys: keySource({ jwks, jwksUri }, remoteKeysAt)! };
}

/** An upstream OpenID login, its defaults filled in (docs/upstream-oidc.md). */
const oidcLoginOf = ({ scopes, clientAuth, require, ...login }: Extract<SchoolLoginReg, { kind: 'oidc' }>): OidcLogin => ({
  ...login,
  clientAuth: clientAuth ?? 'client_secret_basic',
  scopes: scopes ?? ['openid'],
  require: require ?? {},
});

/** Entree's attribute names unless registered otherwise (docs/saml.md, "Attribute mapping"). */
const samlLoginOf = ({ identityAttribute, brinAttribute, attributes, ...login }: Extract<SchoolLoginReg, { kind: 'saml' }>): SamlLogin => ({
  ...login,
  identityAttribute: identityAttribute ?? 'uid',
  brinAttribute: brinAttribute ?? 'nlEduPersonHomeOrganizationId',
  attributes: Object.freeze({ given_name: attributes?.given_name ?? 'givenName', family_name: attributes?.family_name ?? 'sn', role: attributes?.role ?? 'eduPersonAffiliation' }),
});

function clientOf({ jwks, jwksUri, clientSecret, secretHash, ...reg }: StoredClient, remoteKeysAt: RemoteKeysAt): Client {
  const keys = keySource({ jwks, jwksUri }, remoteKeysAt);
  // "generate" is a request, never a secret: resolved at import (store/seed-import.ts) or by the admin API.
  const literal = clientSecret === GENERATE_SECRET ? undefined : clientSecret;
  const hash = literal ? hashSecret(literal) : secretHash ? Buffer.from(secretHash, 'hex') : undefined;
  return Object.freeze({ ...reg, ...(keys ? { keys } : {}), ...(hash ? { secretHash: hash } : {}) });
}

const isAssertionSchool = (school: School): school is AssertionSchool => school.login.kind === 'assertion';
const isSamlSchool = (school: School): school is SamlSchool => school.login.kind === 'saml';

const groupBy = <T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> => {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(keyOf(item), [...(groups.get(keyOf(item)) ?? []), item]);
  return groups;
};

export function buildRegistry(
  seed: Seed | StoredSeed,
  objections: readonly ObjectionTarget[] = [],
  remoteKeysAt: RemoteKeysAt = defaultRemoteKeys,
): Registry {
  const problems = seedProblems(seed);
  if (problems.length) throw new SeedError(problems);

  const schools = new Map(seed.schools.map((reg) => [reg.id, schoolOf(reg, remoteKeysAt)]));
  const licences = groupBy(seed.licences.map((l) => Object.freeze(l)), (l) => `${l.school}\0${l.client}`);
  return Object.freeze({
    schools,
    schoolsByIssuer: groupBy([...schools.values()].filter(isAssertionSchool), (s) => s.login.issuer),
    schoolsBySamlIdp: groupBy([...schools.values()].filter(isSamlSchool), (s) => s.login.entityId),
    suppliers: new Map(seed.suppliers.map((s) => [s.id, Object.freeze(s)])),
    clients: new Map((seed.clients as StoredClient[]).map((c) => [c.clientId, clientOf(c, remoteKeysAt)])),
    licencesFor: (school: string, clientId: string) => licences.get(`${school}\0${clientId}`) ?? [],
    objectsTo: objectionIndex(objections),
  });
}

/** The same registrations (and their JWKS caches) with another set of objections. */
export const withObjections = (registry: Registry, objections: readonly ObjectionTarget[]): Registry =>
  Object.freeze({ ...registry, objectsTo: objectionIndex(objections) });
