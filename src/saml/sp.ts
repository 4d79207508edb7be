import { SAML, ValidateInResponseTo, type CacheProvider } from '@node-saml/node-saml';
import type { IdpMetadata } from './idp-metadata.js';
import { LOGIN_ID } from '../login/login-id.js';

// The gateway as a SAML service provider (docs/saml.md): its entity id is the
// URL of its metadata, its one AssertionConsumerService takes HTTP-POST.
// @node-saml/node-saml does the XML signature, decryption and the SAML
// checks it knows (signature by the registered certificates only, one
// assertion, audience, Conditions times, SubjectConfirmation InResponseTo);
// the ACS route adds the rest (src/saml/acs-route.ts).

export const SP_METADATA_PATH = '/saml/metadata';
export const ACS_PATH = '/saml/acs';
/** docs/saml.md: at most 60 s between the identity provider's clock and ours. */
export const CLOCK_SKEW_MS = 60_000;

export const spEntityId = (issuer: string): string => `${issuer}${SP_METADATA_PATH}`;
export const acsUrl = (issuer: string): string => `${issuer}${ACS_PATH}`;

/**
 * A SAML request ID is an xs:ID (an NCName): it may not start with a digit or
 * '-', as a login id may. So the request ID is the login id behind an underscore.
 */
export const requestIdOf = (loginId: string): string => `_${loginId}`;
export const loginIdOf = (requestId: string): string | undefined => (requestId.startsWith('_') && LOGIN_ID.test(requestId.slice(1)) ? requestId.slice(1) : undefined);

export interface SpOptions {
  readonly issuer: string;
  readonly idp: IdpMetadata;
  /** PEM of the key that signs AuthnRequests, or decrypts assertions. */
  readonly privateKey: string;
  /** The request this answer must answer (SP-initiated), or none (a school-started launch). */
  readonly requestId?: string;
  readonly requestCreatedAt?: number;
}

/** One request's service provider, bound to one identity provider's certificates and at most one request ID. */
export function serviceProvider(options: SpOptions): SAML {
  const { issuer, idp, privateKey, requestId } = options;
  return new SAML({
    issuer: spEntityId(issuer),
    audience: spEntityId(issuer),
    callbackUrl: acsUrl(issuer),
    entryPoint: idp.ssoUrl,
    idpIssuer: idp.entityId,
    // Only the registered metadata's certificates verify; a key in the message's KeyInfo never does.
    idpCert: [...idp.signingCerts],
    privateKey,
    decryptionPvk: privateKey,
    signatureAlgorithm: 'sha256',
    // The assertion itself must be signed: a signed response around an unsigned assertion is refused too.
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: false,
    acceptedClockSkewMs: CLOCK_SKEW_MS,
    identifierFormat: null,
    disableRequestedAuthnContext: true,
    generateUniqueId: () => requestId ?? '',
    // The pending login was taken (once) before validation; node-saml checks the
    // response's and the SubjectConfirmation's InResponseTo against that one request.
    validateInResponseTo: requestId === undefined ? ValidateInResponseTo.never : ValidateInResponseTo.always,
    requestIdExpirationPeriodMs: 300_000,
    cacheProvider: oneRequest(requestId, options.requestCreatedAt),
  });
}

function oneRequest(requestId: string | undefined, createdAt = 0): CacheProvider {
  return {
    saveAsync: async () => null,
    getAsync: async (key) => (requestId !== undefined && key === requestId ? new Date(createdAt).toISOString() : null),
    removeAsync: async () => null,
  };
}
