import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { GatewayContext } from '../context.js';
import { epochSeconds } from '../clock.js';
import { MAX_JWS_LENGTH } from '../crypto/jws.js';
import { pseudonymsAt } from '../crypto/pupil-pseudonyms.js';
import { PageError } from '../errors.js';
import { enforceRateLimit, limitByAddress, perMinute } from '../ops/rate-limit.js';
import { releaseClaims, releasedNames } from '../release/claims.js';
import { findLicence, schoolDay } from '../release/licence.js';
import { authorizationResponseUrl } from '../oidc/authorization-response.js';
import { CODE_TTL_MS, issueCode, type Grant } from '../oidc/code.js';
import { formParams, single } from '../oidc/params.js';
import { LOGIN_REQUEST_TTL_S, takePendingLogin, type PendingLogin } from '../oidc/transaction.js';
import { ASSERTION_PATH } from './login-request.js';
import { claimJti } from '../store/replay.js';
import { verifyAssertion, type VerifiedAssertion } from './verify-assertion.js';

// POST /school/assertion: the school's IdP posts the signed assertion back
// (form field `assertion`). Verify, refuse replays, bind to the pending login,
// check the licence, pseudonymise, release, hand out a single-use code. Every
// failure is a page: nothing goes to the publisher (DESIGN.md, Contract details).

const BODY_LIMIT = 16 * 1024;

export function registerSchoolAssertion(app: FastifyInstance, ctx: GatewayContext): void {
  const perAddress = perMinute('assertion-ip', ctx.config.RATE_LIMIT_ASSERTION_PER_MIN);
  const perIssuer = perMinute('assertion-issuer', ctx.config.RATE_LIMIT_ASSERTION_ISSUER_PER_MIN);
  const config = { errorStyle: 'page' as const, malformedCode: 'assertion_malformed' };
  app.post(ASSERTION_PATH, { bodyLimit: BODY_LIMIT, config, onRequest: limitByAddress(ctx.kv, perAddress) }, async (request, reply) => {
    const token = readAssertion(request);
    const verified = await verifyAssertion(token, { registry: ctx.registry(), issuer: ctx.issuer, clock: ctx.clock });
    // Counted after verification, so only the school's own signed assertions spend its budget.
    await enforceRateLimit(ctx.kv, perIssuer, verified.school.issuer);
    await refuseReplay(ctx, verified);
    const login = await takeBoundLogin(ctx, verified);
    const grant = await decideRelease(ctx, login, verified);
    const code = await issueCode(ctx.kv, grant);
    request.outcome = { client: login.clientId, school: verified.school.id, released: Object.keys(grant.claims) };
    // 303: the browser must turn this POST into a GET (RFC 9700 section 4.12).
    return reply.code(303).header('location', authorizationResponseUrl(login.redirectUri, { code }, login.state, ctx.issuer)).send();
  });
}

function readAssertion(request: FastifyRequest): string {
  const token = single(formParams(request), 'assertion');
  if (token === undefined || token.length > MAX_JWS_LENGTH) throw new PageError('assertion_malformed', 400, 'No valid assertion');
  return token;
}

async function refuseReplay(ctx: GatewayContext, { claims, exp, school }: VerifiedAssertion): Promise<void> {
  const fresh = await claimJti(ctx.kv, 'ajti', school.issuer, claims.jti, exp, ctx.clock.now());
  if (!fresh) throw new PageError('assertion_replayed', 400, 'The assertion was already used');
}

async function takeBoundLogin(ctx: GatewayContext, { claims, school }: VerifiedAssertion): Promise<PendingLogin> {
  if (claims.nonce === undefined) {
    // A school-started launch (target instead of nonce) is not offered yet.
    throw new PageError('assertion_unsolicited', 400, 'School-started launches are not enabled');
  }
  const login = await takePendingLogin(ctx.kv, claims.nonce);
  if (!login || ctx.clock.now() > login.createdAt + LOGIN_REQUEST_TTL_S * 1000) {
    throw new PageError('login_expired', 400, 'No pending login for this assertion');
  }
  if (login.schoolIssuer !== school.issuer) throw new PageError('assertion_school_mismatch', 400, 'Assertion from another school');
  return login;
}

async function decideRelease(ctx: GatewayContext, login: PendingLogin, { pupil, iat }: VerifiedAssertion): Promise<Grant> {
  const registry = ctx.registry();
  const client = registry.clients.get(login.clientId);
  const supplier = client && registry.suppliers.get(client.supplier);
  if (!client || !supplier) throw new PageError('unknown_client_or_redirect_uri', 400, 'The client is no longer registered');
  const now = ctx.clock.now();
  const licence = findLicence(registry.licencesFor(pupil.school, client.clientId), pupil, schoolDay(now));
  if (!licence) throw new PageError('no_licence', 403, 'The school has no licence for this client');
  const pseudonyms = await pseudonymsAt(supplier, pupil, { keys: ctx.keys, roots: ctx.roots, now });
  return {
    clientId: client.clientId,
    redirectUri: login.redirectUri,
    codeChallenge: login.codeChallenge,
    ...(login.nonce === undefined ? {} : { nonce: login.nonce }),
    sub: pseudonyms.sub,
    ...(pseudonyms.previousSub === undefined ? {} : { previousSub: pseudonyms.previousSub }),
    claims: releaseClaims(releasedNames(licence, client), pupil, pseudonyms.group),
    authTime: Math.min(iat, epochSeconds(ctx.clock)),
    expiresAt: now + CODE_TTL_MS,
  };
}
