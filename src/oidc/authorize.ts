import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { invalidRequest, OAuthError, PageError } from '../errors.js';
import { completeLogin, type JourneyDeps } from '../login/journey.js';
import { bindBrowser, PENDING_LOGIN_TTL_S, type AuthorizationRequest } from '../login/pending.js';
import { beginLogin, type StartDeps } from '../login/start.js';
import { gatewayCookies, readCookie, setCookie } from '../session/cookies.js';
import { findSession, sessionAge, type SessionDeps } from '../session/session.js';
import type { Client, Registry, School } from '../store/registry.js';
import { SCHOOL_ID } from '../store/seed-schema.js';
import { collectParams, repeatedNames, single, type RawParams } from '../http/params.js';

// GET|POST /authorize (docs/openid-connect.md). Reading the list in
// handleAuthorize is reading the spec: until the client and its redirect URI
// are verified, errors are pages; after that they go back to the client with
// state and iss (RFC 6749 section 4.1.2.1, RFC 9207). What follows the checks
// is the login journey's (src/login/): the SSO session answers when it may,
// else the login begins at the school or at the school picker.

const MAX_STATE_OR_NONCE = 512;
/** The parameters this endpoint reads: any of them sent twice is refused. */
const PARAMS = [
  'client_id', 'redirect_uri', 'response_type', 'response_mode', 'scope', 'state', 'nonce', 'code_challenge',
  'code_challenge_method', 'prompt', 'max_age', 'school_hint', 'request', 'request_uri',
] as const;
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

export type AuthorizeDeps = JourneyDeps & StartDeps & SessionDeps;

export function registerAuthorize(app: FastifyInstance, deps: AuthorizeDeps): void {
  const cookies = gatewayCookies(deps.issuer);
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const browser = bindBrowser(readCookie(request, cookies.login));
    const { location, parked } = await handleAuthorize(request, deps, browser.hash);
    // The login now waits for this browser only (src/login/pending.ts).
    if (parked) setCookie(reply, cookies.login, browser.cookie, PENDING_LOGIN_TTL_S);
    return reply.code(303).header('location', location).send();
  };
  app.route({ method: ['GET', 'POST'], url: '/authorize', config: { errorStyle: 'authorize', loginStep: 'authorize' }, handler });
}

/** Where the browser goes next, and whether a login now waits for it (parked, bound to `browser`). */
export async function handleAuthorize(request: FastifyRequest, deps: AuthorizeDeps, browser: string): Promise<{ location: string; parked: boolean }> {
  const registry = deps.registry();
  const params = collectParams(request);
  const client = checkClient(params, registry);
  const redirectUri = checkRedirectUri(params, client);
  // Named on the pages from here: before the redirect URI matches, an unknown and a known client look alike.
  request.product = client.clientId;
  request.redirectTarget = { redirectUri, ...stateOf(params) };
  rejectRepeatedParams(params);
  rejectRequestObjects(params);
  checkResponseType(params);
  checkResponseMode(params);
  checkScope(params);
  const nonce = checkNonce(params);
  const codeChallenge = checkPkce(params);
  const prompts = checkPrompt(params);
  const maxAge = checkMaxAge(params);
  const hinted = checkSchoolHint(params, registry);
  const authz: AuthorizationRequest = {
    clientId: client.clientId,
    redirectUri,
    ...stateOf(params),
    ...(nonce === undefined ? {} : { nonce }),
    codeChallenge,
  };
  const fromSession = await completeFromSession(request, deps, authz, { prompts, maxAge, hinted });
  if (fromSession !== undefined) return { location: fromSession, parked: false };
  // OIDC Core section 3.1.2.6: no session that may answer, and no UI allowed.
  if (prompts.has('none')) throw new OAuthError('login_required', 400, 'the user must log in at the school');
  const school = hinted ?? (prompts.has('select_account') ? undefined : rememberedSchool(request, deps)) ?? onlySchool(registry);
  return { location: await beginLogin(deps, { authz, browser }, school), parked: true };
}

interface SessionRules {
  readonly prompts: ReadonlySet<string>;
  readonly maxAge: number | undefined;
  readonly hinted: School | undefined;
}

/**
 * The SSO session answers when it may (OIDC Core section 3.1.2.1): not when
 * the client asks for a fresh login or another account, not for another
 * school than the hinted one, not when the school login is older than max_age.
 */
async function completeFromSession(request: FastifyRequest, deps: AuthorizeDeps, authz: AuthorizationRequest, rules: SessionRules): Promise<string | undefined> {
  if (rules.prompts.has('login') || rules.prompts.has('select_account')) return undefined;
  const cookies = gatewayCookies(deps.issuer);
  const lookup = await findSession(deps, readCookie(request, cookies.session), request.headers['user-agent']);
  if (!('found' in lookup)) return undefined;
  const session = lookup.found;
  if (rules.hinted !== undefined && rules.hinted.id !== session.pupil.school) return undefined;
  if (rules.maxAge !== undefined && sessionAge(deps.clock, session) > rules.maxAge) return undefined;
  const done = await completeLogin(deps, { pupil: session.pupil, authTime: session.authTime, session: { open: false } }, authz);
  request.outcome = { ...done.outcome, session: true };
  return done.location;
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

/** OIDC Core section 3.1.2.1 prompt values; consent is the school's licence, so `consent` asks nothing more. */
const PROMPTS = new Set(['none', 'login', 'consent', 'select_account']);

function checkPrompt(params: RawParams): ReadonlySet<string> {
  const prompts = new Set((single(params, 'prompt') ?? '').split(' ').filter(Boolean));
  if (prompts.has('none') && prompts.size > 1) throw invalidRequest('prompt=none must stand alone');
  if ([...prompts].some((p) => !PROMPTS.has(p))) throw invalidRequest('unsupported prompt value');
  return prompts;
}

function checkMaxAge(params: RawParams): number | undefined {
  const maxAge = single(params, 'max_age');
  if (maxAge === undefined) return undefined;
  if (!/^\d{1,9}$/.test(maxAge)) throw invalidRequest('max_age must be a non-negative integer');
  return Number(maxAge);
}

function checkSchoolHint(params: RawParams, registry: Registry): School | undefined {
  const hint = single(params, 'school_hint');
  if (hint === undefined) return undefined;
  const school = SCHOOL_ID.test(hint) ? registry.schools.get(hint) : undefined;
  if (!school) throw new PageError('school_required', 400, 'Unknown school');
  return school;
}

/** The school this browser chose before (the picker's cookie), if it is still registered. */
function rememberedSchool(request: FastifyRequest, deps: Pick<AuthorizeDeps, 'issuer' | 'registry'>): School | undefined {
  const id = readCookie(request, gatewayCookies(deps.issuer).school);
  return id !== undefined && SCHOOL_ID.test(id) ? deps.registry().schools.get(id) : undefined;
}

function onlySchool(registry: Registry): School | undefined {
  return registry.schools.size === 1 ? registry.schools.values().next().value! : undefined;
}
