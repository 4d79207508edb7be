import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { GatewayContext } from '../context.js';
import { MAX_JWS_LENGTH } from '../crypto/jws.js';
import { PageError } from '../errors.js';
import { enforceRateLimit, limitByAddress, perMinute } from '../ops/rate-limit.js';
import { approveRelease, identifyPupil, issueRedirect, licenceFor, refuseObjected, registeredClient } from '../login/complete.js';
import { formParams, single } from '../oidc/params.js';
import { LOGIN_REQUEST_TTL_S, takePendingLogin, type PendingLogin } from '../oidc/transaction.js';
import { gatewayCookies, setCookie } from '../session/cookies.js';
import { openSession } from '../session/session.js';
import { claimJti } from '../store/replay.js';
import { ASSERTION_PATH } from './login-request.js';
import { verifyAssertion, type VerifiedAssertion } from './verify-assertion.js';

// POST /school/assertion: the school's IdP posts the signed assertion back
// (form field `assertion`). Verify, refuse replays, then either
// - a gateway-started login (`nonce`): bind to the pending login, check the
//   licence, pseudonymise, release, hand out a single-use code; or
// - a school-started launch (`target`, the portal tile): check the licence and
//   send the browser to the product's initiateLoginUri (OIDC Core section 4),
//   whose /authorize then completes from the session.
// Both open the SSO session. Every failure is a page: nothing goes to the
// publisher (DESIGN.md, Contract details).

const BODY_LIMIT = 16 * 1024;

export function registerSchoolAssertion(app: FastifyInstance, ctx: GatewayContext): void {
  const cookies = gatewayCookies(ctx.issuer);
  const perAddress = perMinute('assertion-ip', ctx.config.RATE_LIMIT_ASSERTION_PER_MIN);
  const perIssuer = perMinute('assertion-issuer', ctx.config.RATE_LIMIT_ASSERTION_ISSUER_PER_MIN);
  const config = { errorStyle: 'page' as const, malformedCode: 'assertion_malformed' };
  app.post(ASSERTION_PATH, { bodyLimit: BODY_LIMIT, config, onRequest: limitByAddress(ctx.rates, perAddress) }, async (request, reply) => {
    const token = readAssertion(request);
    const verified = await verifyAssertion(token, { registry: ctx.registry(), issuer: ctx.issuer, clock: ctx.clock });
    // Counted after verification, so only the school's own signed assertions spend its budget.
    await enforceRateLimit(ctx.rates, perIssuer, verified.school.issuer);
    const target = verified.claims.target;
    const { location, session } = target === undefined ? await completeLogin(ctx, request, verified) : await launch(ctx, request, verified, target);
    // Only once everything is written: a failed login hands out no session cookie.
    setCookie(reply, cookies, cookies.session, session, ctx.config.SESSION_MAX_SECONDS);
    // 303: the browser must turn this POST into a GET (RFC 9700 section 4.12).
    return reply.code(303).header('location', location).send();
  });
}

/** Where the browser goes next, and the cookie of the SSO session the school login opened. */
interface Done {
  readonly location: string;
  readonly session: string;
}

function readAssertion(request: FastifyRequest): string {
  const token = single(formParams(request), 'assertion');
  if (token === undefined || token.length > MAX_JWS_LENGTH) throw new PageError('assertion_malformed', 400, 'No valid assertion');
  return token;
}

const claimAssertion = (ctx: GatewayContext, { claims, exp, school }: VerifiedAssertion): Promise<boolean> =>
  claimJti(ctx.kv, 'ajti', school.issuer, claims.jti, exp, ctx.clock.now());

function refuseReplay(fresh: boolean): void {
  if (!fresh) throw new PageError('assertion_replayed', 400, 'The assertion was already used');
}

async function completeLogin(ctx: GatewayContext, request: FastifyRequest, verified: VerifiedAssertion): Promise<Done> {
  // The replay claim and the take of the pending login share one round trip. A replayed
  // assertion is refused as such: the pending login it names was taken by its first use.
  const [fresh, pending] = await Promise.all([claimAssertion(ctx, verified), takePendingLogin(ctx.kv, verified.claims.nonce!)]);
  refuseReplay(fresh);
  const login = boundLogin(ctx, pending, verified);
  const approved = await approveRelease(ctx, login, verified.pupil, verified.iat);
  // The code and the session are written together, once the release is approved and recorded.
  const [done, session] = await Promise.all([issueRedirect(ctx, approved), openSchoolSession(ctx, request, verified)]);
  request.outcome = done.outcome;
  return { location: done.location, session };
}

function boundLogin(ctx: GatewayContext, login: PendingLogin | undefined, { school }: VerifiedAssertion): PendingLogin {
  if (!login || ctx.clock.now() > login.createdAt + LOGIN_REQUEST_TTL_S * 1000) {
    throw new PageError('login_expired', 400, 'No pending login for this assertion');
  }
  if (login.schoolIssuer !== school.issuer) throw new PageError('assertion_school_mismatch', 400, 'Assertion from another school');
  return login;
}

async function launch(ctx: GatewayContext, request: FastifyRequest, verified: VerifiedAssertion, target: string): Promise<Done> {
  refuseReplay(await claimAssertion(ctx, verified));
  const location = await launchUrl(ctx, request, verified, target);
  return { location, session: await openSchoolSession(ctx, request, verified) };
}

/** OIDC Core section 4: the product's login initiation endpoint, told who its OpenID Provider is. */
async function launchUrl(ctx: GatewayContext, request: FastifyRequest, { pupil }: VerifiedAssertion, target: string): Promise<string> {
  const registry = ctx.registry();
  if (!registry.clients.has(target)) throw new PageError('unknown_product', 404, 'The school asked to open an unknown product', 'launch_unknown_target');
  const { client, supplier } = registeredClient(ctx, target);
  if (client.initiateLoginUri === undefined) throw new PageError('launch_not_supported', 400, 'The product cannot be opened from the school portal');
  licenceFor(ctx, client, pupil);
  refuseObjected(ctx, client, supplier, (await identifyPupil(ctx, pupil)).refs);
  request.outcome = { client: client.clientId, school: pupil.school, launch: true };
  const url = new URL(client.initiateLoginUri);
  url.searchParams.set('iss', ctx.issuer);
  return url.toString();
}

const openSchoolSession = (ctx: GatewayContext, request: FastifyRequest, { pupil, iat }: VerifiedAssertion): Promise<string> =>
  openSession(ctx, pupil, iat, request.headers['user-agent']);
