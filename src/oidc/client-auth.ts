import type { FastifyRequest } from 'fastify';
import { epochSeconds, type Clock } from '../clock.js';
import { decodeUntrusted } from '../crypto/jws.js';
import { CLOCK_SKEW_S, checkTimes, verifyJwsSignature, type TimeFault } from '../crypto/verify-jws.js';
import { constantEqual } from '../crypto/tokens.js';
import { invalidClient, invalidRequest } from '../errors.js';
import { hashSecret, type Client, type Registry } from '../store/registry.js';
import type { Kv } from '../store/kv.js';
import { jtiClaim } from '../store/replay.js';
import { isLiveCodeOf } from '../login/code.js';
import { single, type RawParams } from '../http/params.js';

// Client authentication at /token: private_key_jwt (RFC 7523, preferred) or
// client_secret_basic (RFC 6749 section 2.3.1). Each client uses the one
// method its registration implies.

export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/**
 * The longest client assertion accepted, exp - iat (exp - now without iat).
 * RFC 7523 sets no bound; relying-party libraries sign for 60 s (openid-client),
 * 10 min (MSAL) and 3600 s (Authlib's default). The jti is kept until exp, so a
 * replay is refused for the assertion's whole life (README "For publishers").
 */
export const MAX_ASSERTION_LIFETIME_S = 3600;

const TIME_REFUSALS: Record<TimeFault, string> = {
  invalid: 'client assertion needs exp (and iat, nbf if present) as whole seconds since the epoch',
  expired: `client assertion has expired (exp passed more than ${CLOCK_SKEW_S} s ago)`,
  not_yet_valid: `client assertion is not valid yet (iat or nbf more than ${CLOCK_SKEW_S} s ahead)`,
  lifetime_too_long: `client assertion lifetime exceeds ${MAX_ASSERTION_LIFETIME_S} s (exp - iat, or exp - now without iat)`,
};

export interface ClientAuthContext {
  readonly registry: Registry;
  readonly issuer: string;
  readonly tokenEndpoint: string;
  readonly clock: Clock;
  readonly kv: Pick<Kv, 'get'>;
}

/**
 * The authenticated client; for private_key_jwt also the claim of the client assertion's jti, which the
 * caller makes in the same step as the code's redemption (src/oidc/token.ts): until it is claimed, the
 * client is authenticated only if that claim is fresh (RFC 7523 section 3, item 7: a jti is used once).
 */
export interface AuthenticatedClient {
  readonly client: Client;
  readonly jti?: { readonly key: string; readonly ttlMs: number };
}

export async function authenticateClient(request: FastifyRequest, params: RawParams, ctx: ClientAuthContext): Promise<AuthenticatedClient> {
  const basic = request.headers.authorization;
  const assertion = single(params, 'client_assertion');
  if (basic !== undefined && assertion !== undefined) throw invalidRequest('use exactly one client authentication method');
  if (basic !== undefined) return { client: authenticateBasic(basic, params, ctx.registry) };
  if (assertion !== undefined) return authenticateJwt(assertion, params, ctx);
  throw invalidClient('client authentication is required');
}

const basicFailure = () => invalidClient('client authentication failed');

function authenticateBasic(header: string, params: RawParams, registry: Registry): Client {
  const match = /^Basic ([A-Za-z0-9+/]+=*)$/i.exec(header);
  if (!match) throw basicFailure();
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw basicFailure();
  const rawId = decoded.slice(0, colon);
  const rawSecret = decoded.slice(colon + 1);
  const id = formDecode(rawId) ?? rawId;
  checkClientIdParam(params, id);
  const client = registry.clients.get(id);
  // RFC 6749 section 2.3.1 says both parts are form-urlencoded; Authlib and many other
  // libraries send them as they are. The secret is compared in both forms, each once and in
  // constant time, always both, and even for an unknown client, so timing tells nothing.
  const expected = client?.secretHash ?? Buffer.alloc(32);
  const asSent = constantEqual(hashSecret(rawSecret), expected);
  const asDecoded = constantEqual(hashSecret(formDecode(rawSecret) ?? rawSecret), expected);
  if (!client?.secretHash || !(asSent || asDecoded)) throw basicFailure();
  return client;
}

/** application/x-www-form-urlencoded decoding of one value; undefined when it is not valid encoding. */
function formDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

function checkClientIdParam(params: RawParams, authenticatedId: string): void {
  const claimed = single(params, 'client_id');
  if (claimed !== undefined && claimed !== authenticatedId) throw invalidClient('client_id does not match the authenticated client');
}

async function authenticateJwt(assertion: string, params: RawParams, ctx: ClientAuthContext): Promise<AuthenticatedClient> {
  if (single(params, 'client_assertion_type') !== JWT_BEARER) throw invalidRequest('unsupported client_assertion_type');
  const decoded = decodeUntrusted(assertion);
  if (!decoded) throw invalidClient('client assertion is malformed');
  const { header, payload } = decoded;
  const clientId = typeof payload.iss === 'string' ? payload.iss : undefined;
  const client = clientId === undefined ? undefined : ctx.registry.clients.get(clientId);
  if (!client?.keys) throw invalidClient('client authentication failed');
  checkClientIdParam(params, client.clientId);
  // RFC 7523 section 3: iss and sub are the client_id.
  if (payload.sub !== client.clientId) throw invalidClient('client assertion subject is invalid');
  // CVE-2025-27370/27371: the audience is one string, the issuer or the token endpoint.
  if (payload.aud !== ctx.issuer && payload.aud !== ctx.tokenEndpoint) throw invalidClient('client assertion audience is invalid');
  if (typeof payload.jti !== 'string' || payload.jti.length === 0 || payload.jti.length > 256) throw invalidClient('client assertion needs a jti');
  const times = checkTimes(payload, { now: epochSeconds(ctx.clock), skew: CLOCK_SKEW_S, maxLifetime: MAX_ASSERTION_LIFETIME_S, requireIat: false });
  if (typeof times === 'string') throw invalidClient(TIME_REFUSALS[times]);
  // A live code of this client opens the refetch budget a stranger cannot spend (docs/remote-jwks.md).
  const code = single(params, 'code') ?? '';
  await verifySignature(assertion, header, client, () => isLiveCodeOf(ctx.kv, code, client.clientId, ctx.clock.now()));
  return { client, jti: jtiClaim('clientAssertionJti', client.clientId, payload.jti, times.exp, ctx.clock.now()) };
}

/** A client assertion whose jti was claimed before. */
export const clientAssertionReplayed = () => invalidClient('client assertion was already used');

async function verifySignature(assertion: string, header: Record<string, unknown>, client: Client, proveStake: () => Promise<boolean>): Promise<void> {
  const keys = client.keys!;
  try {
    await verifyJwsSignature(assertion, header, keys.withStake?.(proveStake) ?? keys);
  } catch {
    // Whatever failed (signature, no matching key, keys unreachable or unusable), the client is not
    // authenticated, and the caller is not told which (docs/errors.md).
    throw invalidClient('client assertion is invalid');
  }
}
