import type { FastifyInstance, FastifyRequest } from 'fastify';
import * as client from 'openid-client';
import { PageError } from '../errors.js';
import { single, type RawParams } from '../http/params.js';
import { completeLogin, type Arrival, type JourneyDeps } from '../login/journey.js';
import { checkPendingLogin, takeAtSchool, type PendingLogin } from '../login/pending.js';
import { personAtSchool, type UpstreamPersonDeps } from '../login/upstream-person.js';
import { limitByAddress, perMinute, type RateCounter } from '../ops/rate-limit.js';
import type { Pupil } from '../release/pupil.js';
import { gatewayCookies, readCookie, setCookie } from '../session/cookies.js';
import type { Kv } from '../store/kv.js';
import type { OidcLogin, OidcSchool } from '../store/registry.js';
import { redirectUriOf, type KeptForCallback } from './method.js';
import { CALLBACK_PATH } from './paths.js';
import type { UpstreamProviders } from './providers.js';
import { upstreamFailure, withinTime } from './upstream-errors.js';

// GET /school/oidc/callback: the upstream provider sends the browser back
// (docs/upstream-oidc.md). In order:
//  1. read the answer: `state`, then `code` or `error`;
//  2. take the pending login `state` names, once, in the browser that started it;
//  3. the school it went to still logs in by OpenID Connect;
//  4. an upstream `error` is the upstream's refusal (upstream_denied);
//  5. exchange the code (PKCE verifier) and validate the id_token in full
//     (openid-client: issuer, audience, signature against the provider's
//     JWKS, expiry, nonce; the `iss` parameter, RFC 9207);
//  6. the claims the school requires (tenant, domain) before the roster;
//  7. the person on the school's roster (src/login/upstream-person.ts);
//  8. complete the login (src/login/journey.ts) and open the SSO session.
// Every refusal is a page; nothing goes to the publisher and nothing is
// stored. The request log never carries this query string (src/logger.ts).

const MAX_PARAM = 4096;

export interface CallbackRouteDeps extends JourneyDeps, UpstreamPersonDeps {
  readonly kv: Pick<Kv, 'set' | 'take' | 'step' | 'del'>;
  readonly rates: RateCounter;
  readonly providers: UpstreamProviders;
  readonly limits: { readonly perAddress: number; readonly sessionMaxSeconds: number; readonly upstreamTimeoutMs: number };
}

interface Answer {
  readonly state: string;
  readonly code?: string;
  readonly error?: string;
}

export function registerOidcCallback(app: FastifyInstance, deps: CallbackRouteDeps): void {
  const cookies = gatewayCookies(deps.issuer);
  const perAddress = perMinute('oidc-callback-ip', deps.limits.perAddress);
  const config = { errorStyle: 'page' as const, malformedCode: 'upstream_invalid' as const, loginStep: 'callback' as const };
  app.get(CALLBACK_PATH, { config, onRequest: limitByAddress(deps.rates, perAddress) }, async (request, reply) => {
    const answer = readAnswer(request.query as RawParams);
    const pending = await takeLogin(deps, answer.state, readCookie(request, cookies.login));
    // Every page from here on names the product the pupil is logging in to (docs/login-journey.md).
    request.product = pending.authz.clientId;
    const school = schoolOf(deps, pending);
    refuseUpstreamError(answer);
    const claims = await exchangeCode(deps, school.login, pending, answer, request.url);
    checkRequiredClaims(school.login, claims);
    const pupil = await personAtSchool(deps, school, identityOf(school.login, claims));
    const done = await completeLogin(deps, arrivalOf(pupil, claims, request), pending.authz);
    request.outcome = done.outcome;
    // Only once everything is written: a failed login hands out no session cookie.
    setCookie(reply, cookies.session, done.session!, deps.limits.sessionMaxSeconds);
    return reply.code(303).header('location', done.location).send();
  });
}

const invalid = (reason: string) => new PageError('upstream_invalid', 400, 'The school login answer is not valid', reason);

/** 1. One `state`, and a `code` or an `error` (RFC 6749 section 4.1.2). */
function readAnswer(query: RawParams): Answer {
  const value = (name: string) => {
    const v = single(query, name);
    if (Array.isArray(query[name])) throw invalid(`repeated ${name}`);
    return v !== undefined && v.length > 0 && v.length <= MAX_PARAM ? v : undefined;
  };
  const state = value('state');
  if (state === undefined) throw invalid('state missing');
  const code = value('code');
  const error = value('error');
  if ((code === undefined) === (error === undefined)) throw invalid('neither code nor error');
  return { state, ...(code === undefined ? {} : { code }), ...(error === undefined ? {} : { error }) };
}

/** 2. The pending login is taken once (a replayed or forged state finds none), within its lifetime, in its browser. */
async function takeLogin(deps: CallbackRouteDeps, state: string, cookie: string | undefined): Promise<PendingLogin> {
  const pending = await takeAtSchool(deps.kv, state);
  if (!pending) throw invalid('state unknown, expired or used');
  return checkPendingLogin(pending, deps.clock.now(), cookie);
}

/** 3. The school the pupil was sent to, still registered with an OpenID login. */
function schoolOf(deps: CallbackRouteDeps, pending: PendingLogin): OidcSchool {
  const school = deps.registry().schools.get(pending.school);
  if (school?.login.kind !== 'oidc' || !pending.keep?.verifier || !pending.keep.nonce) throw invalid('school no longer logs in by OpenID Connect');
  return school as OidcSchool;
}

// RFC 6749 section 4.1.2.1 and OIDC Core 3.1.2.6: the errors a provider may answer, named on the page.
const UPSTREAM_ERRORS = new Set([
  'access_denied', 'login_required', 'interaction_required', 'consent_required', 'account_selection_required', 'invalid_request',
  'unauthorized_client', 'unsupported_response_type', 'invalid_scope', 'server_error', 'temporarily_unavailable',
]);

/** 4. The provider refused or cancelled the login. */
function refuseUpstreamError(answer: Answer): void {
  if (answer.error === undefined) return;
  const named = UPSTREAM_ERRORS.has(answer.error) ? answer.error : 'other';
  throw Object.assign(new PageError('upstream_denied', 403, 'The school login service refused the login', `upstream_error:${named}`), { detail: named });
}

/** 5. The code exchanged for tokens, the id_token validated in full, within the time bound. */
async function exchangeCode(deps: CallbackRouteDeps, login: OidcLogin, pending: PendingLogin, answer: Answer, url: string): Promise<client.IDToken> {
  const { verifier, nonce } = pending.keep as unknown as KeptForCallback;
  const work = (async () => {
    const config = await deps.providers.configFor(login);
    const callbackUrl = new URL(url, redirectUriOf(deps.issuer));
    const tokens = await client.authorizationCodeGrant(config, callbackUrl, {
      pkceCodeVerifier: verifier,
      expectedNonce: nonce,
      expectedState: answer.state,
      idTokenExpected: true,
    });
    const claims = tokens.claims();
    if (!claims) throw invalid('no id_token');
    return claims;
  })();
  try {
    return await withinTime(work, deps.limits.upstreamTimeoutMs);
  } catch (err) {
    throw upstreamFailure(err);
  }
}

/** 6. The tenant or domain restriction (Entra ID `tid`, Google `hd`), before the roster is consulted. */
function checkRequiredClaims(login: OidcLogin, claims: client.IDToken): void {
  for (const [name, wanted] of Object.entries(login.require)) {
    if (claims[name] !== wanted) throw new PageError('wrong_tenant', 403, 'The account belongs to another organisation', `claim ${name} mismatch`);
  }
}

/** 7. The value that names the person, and what the id_token says about them. */
function identityOf(login: OidcLogin, claims: client.IDToken) {
  const identifier = claims[login.identityClaim];
  if (typeof identifier !== 'string' || identifier.length === 0) throw invalid(`identity claim ${login.identityClaim} missing`);
  // Names the id_token carries, kept only as short strings.
  const attributes: { given_name?: string; family_name?: string } = {};
  for (const name of ['given_name', 'family_name'] as const) {
    const value = claims[name];
    if (typeof value === 'string' && value.length <= 200) attributes[name] = value;
  }
  // A person not taken from the roster is a pupil (docs/upstream-oidc.md, "Without a roster").
  return { identifier, kind: login.identityClaim, role: 'student' as const, attributes };
}

function arrivalOf(pupil: Pupil, claims: client.IDToken, request: FastifyRequest): Arrival {
  const authTime = typeof claims.auth_time === 'number' ? claims.auth_time : claims.iat;
  return { pupil, authTime, session: { open: true, userAgent: request.headers['user-agent'] } };
}
