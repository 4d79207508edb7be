import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { GatewayContext } from '../context.js';
import { randomToken } from '../crypto/tokens.js';
import { invalidRequest, OAuthError, PageError } from '../errors.js';
import { schoolLoginUrl } from '../school/login-request.js';
import type { Client, Registry, School } from '../store/registry.js';
import { SCHOOL_ID } from '../store/seed-schema.js';
import { collectParams, repeatedNames, single, type RawParams } from './params.js';
import { savePendingLogin } from './transaction.js';

// GET|POST /authorize (DESIGN.md section 6). Reading the list in
// handleAuthorize is reading the spec: until the client and its redirect URI
// are verified, errors are pages; after that they go back to the client with
// state and iss (RFC 6749 section 4.1.2.1, RFC 9207).

const MAX_STATE_OR_NONCE = 512;
/** The parameters this endpoint reads: any of them sent twice is refused. */
const PARAMS = [
  'client_id', 'redirect_uri', 'response_type', 'response_mode', 'scope', 'state', 'nonce', 'code_challenge',
  'code_challenge_method', 'prompt', 'max_age', 'school_hint', 'request', 'request_uri',
] as const;
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

export function registerAuthorize(app: FastifyInstance, ctx: GatewayContext): void {
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const location = await handleAuthorize(request, ctx);
    return reply.code(303).header('location', location).send();
  };
  app.route({ method: ['GET', 'POST'], url: '/authorize', config: { errorStyle: 'authorize' }, handler });
}

export async function handleAuthorize(request: FastifyRequest, ctx: GatewayContext): Promise<string> {
  const registry = ctx.registry();
  const params = collectParams(request);
  const client = checkClient(params, registry);
  const redirectUri = checkRedirectUri(params, client);
  request.redirectTarget = { redirectUri, ...stateOf(params) };
  rejectRepeatedParams(params);
  rejectRequestObjects(params);
  checkResponseType(params);
  checkResponseMode(params);
  checkScope(params);
  const nonce = checkNonce(params);
  const codeChallenge = checkPkce(params);
  checkPrompt(params);
  checkMaxAge(params);
  const school = checkSchool(params, registry);
  return startSchoolLogin(ctx, school, {
    clientId: client.clientId,
    redirectUri,
    ...stateOf(params),
    ...(nonce === undefined ? {} : { nonce }),
    codeChallenge,
    schoolIssuer: school.issuer,
    createdAt: ctx.clock.now(),
  });
}

const pageError = (reason: string) => new PageError('unknown_client_or_redirect_uri', 400, 'Unknown client or redirect URI', reason);

function checkClient(params: RawParams, registry: Registry): Client {
  const id = single(params, 'client_id');
  const client = id === undefined ? undefined : registry.clients.get(id);
  if (!client) throw pageError('unknown_client');
  return client;
}

function checkRedirectUri(params: RawParams, client: Client): string {
  // Exact string comparison, no normalisation (RFC 9700 section 4.1.3).
  const uri = single(params, 'redirect_uri');
  if (uri === undefined || !client.redirectUris.includes(uri)) throw pageError('redirect_uri_mismatch');
  return uri;
}

function stateOf(params: RawParams): { state?: string } {
  const state = single(params, 'state');
  if (state !== undefined && state.length > MAX_STATE_OR_NONCE) {
    // Too long to echo safely, and not echoing it would break the client: a page.
    throw new PageError('invalid_request', 400, 'state is too long');
  }
  return state === undefined ? {} : { state };
}

function rejectRepeatedParams(params: RawParams): void {
  if (repeatedNames(params, PARAMS).length) throw invalidRequest('parameters must not be repeated');
}

function rejectRequestObjects(params: RawParams): void {
  if (params.request !== undefined) throw new OAuthError('request_not_supported', 400, 'request objects are not supported');
  if (params.request_uri !== undefined) throw new OAuthError('request_uri_not_supported', 400, 'request_uri is not supported');
}

function checkResponseType(params: RawParams): void {
  const responseType = single(params, 'response_type');
  if (responseType === undefined) throw invalidRequest('response_type is required');
  if (responseType !== 'code') throw new OAuthError('unsupported_response_type', 400, 'only response_type=code is supported');
}

function checkResponseMode(params: RawParams): void {
  const mode = single(params, 'response_mode');
  if (mode !== undefined && mode !== 'query') throw invalidRequest('only response_mode=query is supported');
}

function checkScope(params: RawParams): void {
  const scopes = new Set((single(params, 'scope') ?? '').split(' '));
  if (!scopes.has('openid')) throw new OAuthError('invalid_scope', 400, 'scope must contain openid');
}

function checkNonce(params: RawParams): string | undefined {
  const nonce = single(params, 'nonce');
  if (nonce !== undefined && nonce.length > MAX_STATE_OR_NONCE) throw invalidRequest('nonce is too long');
  return nonce;
}

function checkPkce(params: RawParams): string {
  // PKCE is required for every client, S256 only (RFC 9700 section 2.1.1; ASVS 10.4.6).
  if (single(params, 'code_challenge_method') !== 'S256') throw invalidRequest('code_challenge_method must be S256');
  const challenge = single(params, 'code_challenge');
  if (challenge === undefined || !S256_CHALLENGE.test(challenge)) throw invalidRequest('code_challenge must be an S256 challenge');
  return challenge;
}

function checkPrompt(params: RawParams): void {
  const prompts = new Set((single(params, 'prompt') ?? '').split(' ').filter(Boolean));
  if (prompts.has('none') && prompts.size > 1) throw invalidRequest('prompt=none must stand alone');
  // Without a gateway session every login involves the school (OIDC Core section 3.1.2.6).
  if (prompts.has('none')) throw new OAuthError('login_required', 400, 'the user must log in at the school');
}

function checkMaxAge(params: RawParams): void {
  const maxAge = single(params, 'max_age');
  if (maxAge !== undefined && !/^\d{1,9}$/.test(maxAge)) throw invalidRequest('max_age must be a non-negative integer');
}

function checkSchool(params: RawParams, registry: Registry): School {
  const hint = single(params, 'school_hint');
  if (hint !== undefined) {
    const school = SCHOOL_ID.test(hint) ? registry.schools.get(hint) : undefined;
    if (!school) throw new PageError('school_required', 400, 'Unknown school');
    return school;
  }
  if (registry.schools.size === 1) return registry.schools.values().next().value!;
  throw new PageError('school_required', 400, 'No school chosen');
}

async function startSchoolLogin(ctx: GatewayContext, school: School, login: Parameters<typeof savePendingLogin>[2]): Promise<string> {
  const gatewayNonce = randomToken();
  await savePendingLogin(ctx.kv, gatewayNonce, login);
  return schoolLoginUrl(school, gatewayNonce, { issuer: ctx.issuer, clock: ctx.clock, key: ctx.signing.current });
}
