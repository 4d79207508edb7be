import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Clock } from '../clock.js';
import { MAX_JWS_LENGTH } from '../crypto/jws.js';
import { PageError } from '../errors.js';
import { completeAnswer, completeLogin, launchProduct, type Arrival, type Finished, type JourneyDeps } from '../login/journey.js';
import { loginFor } from '../login/login-id.js';
import { checkPendingLogin, pendingTaken, takeAtSchool } from '../login/pending.js';
import { formParams, single } from '../http/params.js';
import { enforceRateLimit, limitByAddress, perMinute, type RateCounter } from '../ops/rate-limit.js';
import { gatewayCookies, readCookie, setCookie } from '../session/cookies.js';
import type { Kv } from '../store/kv.js';
import type { Registry } from '../store/registry.js';
import { claimJti, jtiClaim } from '../store/replay.js';
import { ASSERTION_PATH } from './login-request.js';
import { verifyAssertion, type VerifiedAssertion } from './verify-assertion.js';

// POST /school/assertion: the school's IdP posts the signed assertion back
// (form field `assertion`, docs/school-assertion.md). In order: read it,
// verify it, count it against the school's budget, refuse a replay, then
// either
// - a gateway-started login (`nonce`, the login id): decide the release for
//   the client the login id names, then claim the jti, take the pending login
//   and write code and session in one step (src/login/journey.ts); or
// - a school-started launch (`target`): open the product from the portal.
// Both open the SSO session. Every failure is a page: nothing goes to the
// publisher.

const BODY_LIMIT = 16 * 1024;

export interface AssertionRouteDeps extends JourneyDeps {
  readonly kv: Pick<Kv, 'set' | 'setIfAbsent' | 'take' | 'step' | 'del'>;
  readonly rates: RateCounter;
  readonly limits: { readonly perAddress: number; readonly perIssuer: number; readonly sessionMaxSeconds: number };
}

export function registerSchoolAssertion(app: FastifyInstance, deps: AssertionRouteDeps): void {
  const cookies = gatewayCookies(deps.issuer);
  const perAddress = perMinute('assertion-ip', deps.limits.perAddress);
  const perIssuer = perMinute('assertion-issuer', deps.limits.perIssuer);
  const config = { errorStyle: 'page' as const, malformedCode: 'assertion_malformed' as const, loginStep: 'assertion' as const };
  app.post(ASSERTION_PATH, { bodyLimit: BODY_LIMIT, config, onRequest: limitByAddress(deps.rates, perAddress) }, async (request, reply) => {
    const token = readAssertion(request);
    const verified = await verifyAssertion(token, { registry: deps.registry(), issuer: deps.issuer, clock: deps.clock });
    // Counted after verification, so only the school's own signed assertions spend its budget.
    await enforceRateLimit(deps.rates, perIssuer, verified.school.login.issuer);
    const arrival: Arrival = { pupil: verified.pupil, authTime: verified.iat, session: { open: true, userAgent: request.headers['user-agent'] } };
    const target = verified.claims.target;
    const done = target === undefined
      ? await answerLogin(deps, request, verified, arrival, readCookie(request, cookies.login))
      : await launch(deps, request, verified, arrival, target);
    request.outcome = done.outcome;
    // Only once everything is written: a failed login hands out no session cookie.
    setCookie(reply, cookies.session, done.session!, deps.limits.sessionMaxSeconds);
    // 303: the browser must turn this POST into a GET (RFC 9700 section 4.12).
    return reply.code(303).header('location', done.location).send();
  });
}

function readAssertion(request: FastifyRequest): string {
  const token = single(formParams(request), 'assertion');
  if (token === undefined || token.length > MAX_JWS_LENGTH) throw new PageError('assertion_malformed', 400, 'No valid assertion');
  return token;
}

const claimAssertion = (deps: { kv: Pick<Kv, 'setIfAbsent'>; clock: Clock }, { claims, exp, school }: VerifiedAssertion): Promise<boolean> =>
  claimJti(deps.kv, 'assertionJti', school.login.issuer, claims.jti, exp, deps.clock.now());

function refuseReplay(fresh: boolean): void {
  if (!fresh) throw new PageError('assertion_replayed', 400, 'The assertion was already used');
}

async function answerLogin(deps: AssertionRouteDeps, request: FastifyRequest, verified: VerifiedAssertion, arrival: Arrival, loginCookie: string | undefined): Promise<Finished> {
  const loginId = verified.claims.nonce!;
  const made = loginFor(deps.keys.login, loginId);
  if (made === undefined) {
    // A login id that names nobody: made before the gateway sealed whom it is for, or not made by the gateway.
    const [fresh, pending] = await Promise.all([claimAssertion(deps, verified), takeAtSchool(deps.kv, loginId)]);
    request.product = pending?.authz.clientId;
    // A replayed assertion is refused as such: the pending login it names was taken by its first use.
    refuseReplay(fresh);
    const login = checkPendingLogin(pending, deps.clock.now(), loginCookie);
    checkAnsweredBySchool(deps.registry(), login.school, verified);
    return completeLogin(deps, arrival, login.authz);
  }
  request.product = made.clientId;
  // Before the release is decided: an answer from another school is refused as that, whatever its pupil may see.
  checkAnsweredBySchool(deps.registry(), made.school, verified);
  const { claims, exp, school } = verified;
  return completeAnswer(deps, arrival, {
    loginId,
    for: made,
    claim: jtiClaim('assertionJti', school.login.issuer, claims.jti, exp, deps.clock.now()),
    accept: (step) => {
      refuseReplay(step.fresh);
      return checkPendingLogin(pendingTaken(loginId, step.taken), deps.clock.now(), loginCookie);
    },
  });
}

/** The assertion comes from the school the pupil was sent to, or from another school of the same identity provider. */
function checkAnsweredBySchool(registry: Registry, sentTo: string, { school }: VerifiedAssertion): void {
  const asked = registry.schools.get(sentTo);
  if (asked?.login.kind !== 'assertion' || asked.login.issuer !== school.login.issuer) {
    throw new PageError('assertion_school_mismatch', 400, 'Assertion from another school');
  }
}

async function launch(deps: AssertionRouteDeps, request: FastifyRequest, verified: VerifiedAssertion, arrival: Arrival, target: string): Promise<Finished> {
  request.product = target;
  refuseReplay(await claimAssertion(deps, verified));
  return launchProduct(deps, arrival, target);
}
