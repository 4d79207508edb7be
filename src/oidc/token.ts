import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Clock } from '../clock.js';
import type { SigningKeys } from '../crypto/signing-keys.js';
import { constantEqual, randomToken, tokenHash } from '../crypto/tokens.js';
import { invalidGrant, invalidRequest, OAuthError } from '../errors.js';
import { isCodeShaped, redemptionOf, redemptionTake, type Grant } from '../login/code.js';
import { enforceRateLimit, limitByAddress, perMinute, type RateCounter } from '../ops/rate-limit.js';
import type { Kv } from '../store/kv.js';
import type { Client, Registry } from '../store/registry.js';
import { ACCESS_TOKEN_TTL_S, accessTokenPut, discardAccessToken, revokeAccessToken } from './access-token.js';
import { authenticateClient, clientAssertionReplayed } from './client-auth.js';
import { signIdToken } from './id-token.js';
import { formParams, isForm, repeatedNames, single, type RawParams } from '../http/params.js';
import { TOKEN_PATH } from './paths.js';

// POST /token (docs/openid-connect.md; RFC 6749 sections 4.1.3 and 5).

const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;
const PARAMS = ['grant_type', 'code', 'redirect_uri', 'code_verifier', 'client_id', 'client_assertion', 'client_assertion_type'] as const;

export interface TokenDeps {
  readonly issuer: string;
  readonly clock: Clock;
  readonly kv: Pick<Kv, 'step' | 'set' | 'get' | 'del'>;
  readonly registry: () => Registry;
  readonly signing: Pick<SigningKeys, 'current'>;
  readonly rates: RateCounter;
  readonly limits: { readonly perClient: number; readonly perAddress: number };
}

export function registerToken(app: FastifyInstance, ctx: TokenDeps): void {
  const perAddress = perMinute('token-ip', ctx.limits.perAddress);
  const perClient = perMinute('token-client', ctx.limits.perClient);
  const options = { bodyLimit: 16 * 1024, config: { errorStyle: 'token' as const, loginStep: 'token' as const }, onRequest: limitByAddress(ctx.rates, perAddress) };
  app.post(TOKEN_PATH, options, async (request, reply) => {
    reply.header('cache-control', 'no-store');
    const params = checkForm(request);
    checkGrantType(params);
    const { client, jti } = await authenticateClient(request, params, {
      registry: ctx.registry(),
      issuer: ctx.issuer,
      tokenEndpoint: `${ctx.issuer}${TOKEN_PATH}`,
      clock: ctx.clock,
      kv: ctx.kv,
    });
    // Counted once the client is authenticated: a party that only claims a client_id cannot spend that client's budget.
    await enforceRateLimit(ctx.rates, perClient, client.clientId);
    const code = requireParam(params, 'code');
    const accessToken = randomToken();
    const grant = await redeem(ctx, request, code, accessToken, jti);
    try {
      checkBoundToClient(grant, client);
      checkRedirectUri(grant, params);
      checkPkce(grant, params);
      checkNotExpired(grant, ctx.clock.now());
    } catch (err) {
      // The token was recorded with the redemption and is never handed out: its record goes.
      await discardAccessToken(ctx.kv, accessToken);
      throw err;
    }
    const idToken = signIdToken(grant, { issuer: ctx.issuer, clock: ctx.clock, key: ctx.signing.current });
    request.outcome = { client: client.clientId, issued: 'tokens' };
    return { access_token: accessToken, token_type: 'Bearer', expires_in: ACCESS_TOKEN_TTL_S, id_token: idToken, scope: 'openid' };
  });
}

function checkForm(request: FastifyRequest): RawParams {
  if (!isForm(request)) throw invalidRequest('the body must be application/x-www-form-urlencoded');
  // RFC 6749 sections 2.3.1 and 4.1.3: parameters and credentials travel in the body, never in the URL.
  if (Object.keys(request.query as object).length) throw invalidRequest('parameters belong in the form body');
  const params = formParams(request);
  if (repeatedNames(params, PARAMS).length) throw invalidRequest('parameters must not be repeated');
  return params;
}

function checkGrantType(params: RawParams): void {
  const grantType = single(params, 'grant_type');
  if (grantType === undefined) throw invalidRequest('grant_type is required');
  if (grantType !== 'authorization_code') throw new OAuthError('unsupported_grant_type', 400, 'only authorization_code is supported');
}

function requireParam(params: RawParams, name: string): string {
  const value = single(params, name);
  if (value === undefined) throw invalidRequest(`${name} is required`);
  return value;
}

// Unknown, expired, replayed and foreign codes all get this one answer: a caller learns nothing of which (docs/openid-connect.md).
const badCode = () => invalidGrant('the code is invalid, expired or already used');

/**
 * One step (src/store/kv.ts): claim the client assertion's jti, redeem the code
 * (its record replaced by a marker naming this access token), and record the
 * access token beside it. Of concurrent redemptions of one code exactly one
 * gets the grant.
 */
async function redeem(ctx: Pick<TokenDeps, 'kv'>, request: FastifyRequest, code: string, accessToken: string, jti: { key: string; ttlMs: number } | undefined): Promise<Grant> {
  // Bounded before the step: a long value would otherwise be sealed into the token's record and sent to the KV.
  if (!isCodeShaped(code)) throw badCode();
  const step = await ctx.kv.step({
    ...(jti === undefined ? {} : { claim: jti }),
    take: redemptionTake(code, tokenHash(accessToken)),
    put: [accessTokenPut(accessToken, code)],
  });
  if (!step.fresh) throw clientAssertionReplayed();
  const redemption = redemptionOf(code, step);
  switch (redemption.outcome) {
    case 'granted':
      // The token's record is there unless something was already under its (new, random) key.
      if (!step.written) throw badCode();
      return redemption.grant;
    case 'replayed':
      // RFC 6749 section 4.1.2: revoke what the first redemption issued.
      await revokeAccessToken(ctx.kv, redemption.firstAccessTokenHash);
      request.log.warn({ event: 'code_replayed' }, 'authorization code replayed; first access token revoked');
      throw badCode();
    case 'unknown':
      if (step.written) await discardAccessToken(ctx.kv, accessToken);
      throw badCode();
  }
}

function checkBoundToClient(grant: Grant, client: Client): void {
  if (grant.clientId !== client.clientId) throw badCode();
}

function checkRedirectUri(grant: Grant, params: RawParams): void {
  if (requireParam(params, 'redirect_uri') !== grant.redirectUri) throw invalidGrant('redirect_uri does not match');
}

function checkPkce(grant: Grant, params: RawParams): void {
  const verifier = single(params, 'code_verifier');
  if (verifier === undefined || !VERIFIER.test(verifier)) throw invalidGrant('code_verifier is missing or malformed');
  // RFC 7636 section 4.6: BASE64URL(SHA256(ASCII(verifier))); the pattern above keeps the verifier ASCII.
  if (!constantEqual(tokenHash(verifier), grant.codeChallenge)) throw invalidGrant('code_verifier does not match');
}

function checkNotExpired(grant: Grant, now: number): void {
  if (now > grant.expiresAt) throw badCode();
}
