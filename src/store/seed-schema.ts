import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { z } from 'zod';

// The registration shapes (docs/registrations.md), shared by the seed file
// and the admin API.

export const SCHOOL_ID = /^[0-9]{2}[A-Z]{2}([0-9]{2})?$/;
export const SLUG = /^[a-z0-9][a-z0-9-]{1,62}$/;

export const RELEASABLE_CLAIMS = [
  'school', 'role', 'grade', 'groups', 'group_names',
  'given_name', 'family_name', 'tussenvoegsel', 'birthdate', 'gender',
] as const;
export type ReleasableClaim = (typeof RELEASABLE_CLAIMS)[number];

// Ed25519 is RFC 9864's fully-specified name for EdDSA over Ed25519; current
// libraries (openid-client, jose) sign with it, so both names are accepted.
export const ASYMMETRIC_ALGS = ['ES256', 'EdDSA', 'Ed25519', 'PS256', 'RS256'] as const;

function importable(jwk: object): boolean {
  try {
    return createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }).type === 'public';
  } catch {
    return false;
  }
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * A rule over a URL that z.url() accepted. zod runs every refinement even after
 * an earlier check of the same value failed, so a value that is no URL at all
 * passes here: z.url() has reported it already (a 400 naming the field, never
 * a throw from new URL()).
 */
const urlRule = (rule: (url: URL) => boolean) => (raw: string): boolean => {
  const url = URL.parse(raw);
  return url === null || rule(url);
};

/** https everywhere; http only on loopback hosts, for development and tests (docs/registrations.md). */
export const registeredUrl = z.url({ protocol: /^https?$/ }).refine(
  urlRule((url) => url.protocol === 'https:' || LOOPBACK_HOSTS.has(url.hostname)),
  { message: 'must be https (http only on localhost, 127.0.0.1 or [::1])' },
).refine((raw) => !raw.includes('#'), { message: 'must not contain a fragment' });

// No fragment, and none of the response's own parameters already in the query (RFC 6749 section 3.1.2, RFC 9207).
const redirectUri = registeredUrl.refine(
  urlRule((url) => !['code', 'state', 'iss', 'error'].some((p) => url.searchParams.has(p))),
  { message: 'must not carry code, state, iss or error query parameters' },
);

const publicJwk = z
  .looseObject({
    kty: z.enum(['EC', 'RSA', 'OKP']),
    kid: z.string().min(1).max(128),
    alg: z.enum(ASYMMETRIC_ALGS).optional(),
    use: z.literal('sig').optional(),
  })
  .refine((jwk) => !('d' in jwk) && !('p' in jwk) && !('k' in jwk), { message: 'must be a public key (no private parts)' })
  // A key that cannot be imported would fail every login later: refuse it now.
  .refine((jwk) => importable(jwk), { message: 'is not a valid public key' })
  // RSA keys of at least 2048 bits (docs/school-assertion.md, docs/openid-connect.md).
  .refine((jwk) => jwk.kty !== 'RSA' || (typeof jwk.n === 'string' && Buffer.from(jwk.n, 'base64url').length >= 256), {
    message: 'RSA keys must have a modulus of at least 2048 bits',
  });

export const jwksSchema = z.object({
  keys: z.array(publicJwk).max(16).refine((keys) => new Set(keys.map((k) => k.kid)).size === keys.length, {
    message: 'key ids (kid) must be distinct',
  }),
});

const keySource = {
  jwks: jwksSchema.optional(),
  jwksUri: registeredUrl.optional(),
};

const date = z.iso.date();

const isObject = (payload: { value: unknown }): boolean => typeof payload.value === 'object' && payload.value !== null;

const oneKeySource = (s: { jwks?: unknown; jwksUri?: unknown }) => Boolean(s.jwks) !== Boolean(s.jwksUri);
const oneKeySourceMessage = { message: 'give exactly one of jwks or jwksUri', path: ['jwks'], when: isObject };

/**
 * How a login uses the school's roster (docs/school-login.md): `required` (a
 * person must be on it), `optional` (the roster's attributes when the person
 * is on it, else the upstream identifier is the pupil key) or `none`.
 */
export const ROSTER_MODES = ['required', 'optional', 'none'] as const;
export type RosterMode = (typeof ROSTER_MODES)[number];

/** A school that signs the gateway's own login assertion (docs/school-assertion.md). */
export const assertionLoginSchema = z
  .strictObject({
    kind: z.literal('assertion'),
    issuer: registeredUrl,
    loginUrl: registeredUrl,
    ...keySource,
  })
  .refine(oneKeySource, oneKeySourceMessage);

/** A SAML attribute name: a short name (uid), a URN or an OID. */
const samlAttributeName = z.string().min(1).max(256).regex(/^[\x21-\x7e]+$/, 'must be an attribute name without spaces');

/** Where each verified-person attribute comes from in a SAML assertion (docs/saml.md, "Attribute mapping"). */
export const samlAttributeMapSchema = z.strictObject({
  given_name: samlAttributeName.optional(),
  family_name: samlAttributeName.optional(),
  role: samlAttributeName.optional(),
});

/** A school, or a federation hub serving many schools, that logs in over SAML 2.0 (docs/saml.md). */
export const samlLoginSchema = z
  .strictObject({
    kind: z.literal('saml'),
    metadataUrl: registeredUrl.optional(),
    metadataXml: z.string().min(1).max(256 * 1024).optional(),
    /** The identity provider's entity id, as in its metadata. */
    entityId: z.string().min(1).max(1024),
    identityAttribute: samlAttributeName.optional(),
    brinAttribute: samlAttributeName.optional(),
    attributes: samlAttributeMapSchema.optional(),
  })
  .refine((s) => Boolean(s.metadataUrl) !== Boolean(s.metadataXml), { message: 'give exactly one of metadataUrl or metadataXml', path: ['metadataUrl'], when: isObject });

/** Which id_token claim names the person at an upstream OpenID provider (docs/upstream-oidc.md). */
export const IDENTITY_CLAIMS = ['sub', 'oid', 'email', 'preferred_username'] as const;
export const UPSTREAM_CLIENT_AUTH = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const;

// RFC 6749 section 3.3: a scope token is printable ASCII without space, quote or backslash.
const scopeToken = z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/, 'must be a scope token');
const claimName = z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be a claim name');
const usesSecret = (auth: string | undefined) => auth !== 'private_key_jwt';

/** A school whose people log in at an upstream OpenID provider, the gateway its relying party (docs/upstream-oidc.md). */
export const oidcLoginSchema = z
  .strictObject({
    kind: z.literal('oidc'),
    issuer: registeredUrl,
    clientId: z.string().min(1).max(256),
    clientSecret: z.string().min(1).max(512).optional(),
    clientAuth: z.enum(UPSTREAM_CLIENT_AUTH).optional(),
    scopes: z.array(scopeToken).min(1).max(20).refine((s) => s.includes('openid'), { message: 'must include openid' }).optional(),
    identityClaim: z.enum(IDENTITY_CLAIMS),
    require: z.record(claimName, z.string().min(1).max(256)).refine((r) => Object.keys(r).length <= 8, { message: 'at most 8 claims' }).optional(),
  })
  .refine((l) => usesSecret(l.clientAuth) === (l.clientSecret !== undefined), {
    message: 'give clientSecret, or clientAuth "private_key_jwt" without a secret',
    path: ['clientSecret'],
    when: isObject,
  });

/** How a school's people log in (docs/school-login.md): one kind per school. */
export const schoolLoginSchema = z.discriminatedUnion('kind', [assertionLoginSchema, oidcLoginSchema, samlLoginSchema]);

const schoolId = z.string().regex(SCHOOL_ID, 'must be a BRIN with an optional 2-digit location, e.g. 12AB or 12AB01');

/**
 * A school: its login method as `login`, or (the original form, still valid
 * and meaning kind "assertion") `issuer`, `loginUrl` and `jwks`/`jwksUri` at
 * the top level.
 */
export const schoolSchema = z
  .strictObject({
    id: schoolId,
    name: z.string().min(1).max(200),
    /** The school's portal may start products (school-started launch); off unless turned on (docs/login-journey.md). */
    allowLaunch: z.boolean().optional(),
    login: schoolLoginSchema.optional(),
    /** Is the school's roster consulted at login (docs/school-login.md)? Default: none for an assertion, required otherwise. */
    roster: z.enum(ROSTER_MODES).optional(),
    issuer: registeredUrl.optional(),
    loginUrl: registeredUrl.optional(),
    ...keySource,
  })
  .refine((s) => s.login !== undefined || s.issuer !== undefined, { message: 'is required (or give login)', path: ['issuer'], when: isObject })
  .refine((s) => s.login !== undefined || s.loginUrl !== undefined, { message: 'is required (or give login)', path: ['loginUrl'], when: isObject })
  .refine((s) => s.login !== undefined || oneKeySource(s), oneKeySourceMessage)
  .refine((s) => s.login === undefined || [s.issuer, s.loginUrl, s.jwks, s.jwksUri].every((v) => v === undefined), {
    message: 'give the login method either as login or as issuer, loginUrl and jwks/jwksUri, not both',
    path: ['login'],
    when: isObject,
  });

export const supplierSchema = z
  .strictObject({
    id: z.string().regex(SLUG, 'must be a slug: a-z, 0-9 and -, 2 to 63 characters'),
    name: z.string().min(1).max(200),
    keyVersion: z.number().int().min(1).default(1),
    previousKeyVersion: z.number().int().min(1).optional(),
    rotationUntil: z.iso.datetime({ offset: true }).optional(),
  })
  .refine((s) => (s.previousKeyVersion === undefined) === (s.rotationUntil === undefined), {
    message: 'previousKeyVersion and rotationUntil go together',
    path: ['previousKeyVersion'],
  })
  .refine((s) => s.previousKeyVersion === undefined || s.previousKeyVersion !== s.keyVersion, {
    message: 'must differ from keyVersion',
    path: ['previousKeyVersion'],
  });

export const clientSchema = z
  .strictObject({
    clientId: z.string().regex(SLUG, 'must be a slug: a-z, 0-9 and -, 2 to 63 characters'),
    supplier: z.string().regex(SLUG),
    name: z.string().min(1).max(200),
    redirectUris: z.array(redirectUri).min(1).max(20),
    initiateLoginUri: registeredUrl.optional(),
    ...keySource,
    // "generate" asks the gateway for a fresh secret, shown once (src/store/client-secrets.ts).
    clientSecret: z
      .string()
      .max(512)
      .refine((secret) => secret === 'generate' || secret.length >= 32, { message: 'must be "generate" (the gateway makes one) or at least 32 characters' })
      .optional(),
    claims: z.array(z.enum(RELEASABLE_CLAIMS)).max(RELEASABLE_CLAIMS.length),
  })
  .refine((c) => [c.jwks, c.jwksUri, c.clientSecret].filter(Boolean).length === 1, {
    message: 'give exactly one of jwks, jwksUri (private_key_jwt) or clientSecret (client_secret_basic)',
    path: ['jwks'],
    // Reported with the field problems, not only once they are fixed (it reads presence only).
    when: isObject,
  });

// A licence's own fields; the admin API takes the school from the path.
const licenceFields = {
  client: z.string().regex(SLUG),
  claims: z.array(z.enum(RELEASABLE_CLAIMS)),
  groups: z.array(z.string().min(1).max(128)).min(1).optional(),
  grades: z.array(z.number().int().min(1).max(15)).min(1).optional(),
  validFrom: date.optional(),
  validUntil: date.optional(),
};

const validityInOrder = (l: { validFrom?: string | undefined; validUntil?: string | undefined }) => !l.validFrom || !l.validUntil || l.validFrom <= l.validUntil;
const validityMessage = { message: 'validFrom must not be after validUntil', path: ['validUntil'] };

export const licenceSchema = z
  .strictObject({ school: z.string().regex(SCHOOL_ID), ...licenceFields })
  .refine(validityInOrder, validityMessage);

export const licenceBodySchema = z.strictObject(licenceFields).refine(validityInOrder, validityMessage);

export const seedSchema = z.strictObject({
  schools: z.array(schoolSchema).default([]),
  suppliers: z.array(supplierSchema).default([]),
  clients: z.array(clientSchema).default([]),
  licences: z.array(licenceSchema).default([]),
});

export type Seed = z.infer<typeof seedSchema>;
export type JwksReg = z.infer<typeof jwksSchema>;
export type SchoolReg = z.infer<typeof schoolSchema>;
export type SchoolLoginReg = z.infer<typeof schoolLoginSchema>;
export type SupplierReg = z.infer<typeof supplierSchema>;
export type ClientReg = z.infer<typeof clientSchema>;
export type LicenceReg = z.infer<typeof licenceSchema>;
export type LicenceBody = z.infer<typeof licenceBodySchema>;
