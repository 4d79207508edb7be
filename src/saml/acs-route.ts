import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PageError } from '../errors.js';
import { formParams, single } from '../http/params.js';
import { completeLogin, launchProduct, type Arrival, type Finished, type JourneyDeps } from '../login/journey.js';
import { checkPendingLogin, takeAtSchool, type PendingLogin } from '../login/pending.js';
import { personAtSchool, type UpstreamPersonDeps } from '../login/upstream-person.js';
import { enforceRateLimit, limitByAddress, perMinute, type RateCounter } from '../ops/rate-limit.js';
import { gatewayCookies, readCookie, setCookie } from '../session/cookies.js';
import type { Kv } from '../store/kv.js';
import type { SamlSchool } from '../store/registry.js';
import { claimJti } from '../store/replay.js';
import type { IdpMetadata } from './idp-metadata.js';
import type { IdpSource } from './idp-source.js';
import { pickSchool, upstreamIdentity } from './saml-person.js';
import { MAX_RESPONSE_BYTES, screenResponse, type ScreenedResponse } from './screen-response.js';
import { ACS_PATH, loginIdOf } from './sp.js';
import type { SpKeys } from './sp-keys.js';
import { verifyResponse, type VerifiedSaml } from './verify-response.js';

// POST /saml/acs: the identity provider's SAML response, HTTP-POST binding
// (docs/saml.md). In order:
//   screen    size, base64, strict XML (no DOCTYPE, comment, PI), one assertion
//   pending   InResponseTo names the pending login: taken once, in the browser
//             that started it (the login cookie is SameSite=None, so it comes
//             with this cross-site POST); none: an unsolicited response
//   verify    signature by the registered metadata's keys, decryption,
//             audience, destination, recipient, times, InResponseTo
//   school    the BRIN picks the school among the identity provider's
//   person    uid = NameID, roster join (personAtSchool)
//   replay    the assertion ID claimed once
//   complete  completeLogin, or a school-started launch (allowLaunch only)
// Every failure is a page; nothing goes to the publisher.

// The form carries base64 (4/3 of the XML), URL-encoded ('+' and '/' take three characters
// each: at worst one base64 character in four, so 1.5 times), and a RelayState; above this,
// 413 upstream_invalid.
const BODY_LIMIT = Math.ceil(((MAX_RESPONSE_BYTES * 4) / 3) * 1.5) + 4096;


export interface AcsDeps extends JourneyDeps {
  readonly kv: Pick<Kv, 'set' | 'setIfAbsent' | 'take' | 'step' | 'del'>;
  readonly rates: RateCounter;
  readonly idps: IdpSource;
  readonly spKeys: SpKeys;
  readonly roster: UpstreamPersonDeps['roster'];
  readonly limits: { readonly perAddress: number; readonly perIssuer: number; readonly sessionMaxSeconds: number };
}

const invalid = (reason: string) => new PageError('upstream_invalid', 400, 'The school login answered with an invalid response', reason);

export function registerSamlAcs(app: FastifyInstance, deps: AcsDeps): void {
  const cookies = gatewayCookies(deps.issuer);
  const perAddress = perMinute('saml-ip', deps.limits.perAddress);
  const perIdp = perMinute('saml-idp', deps.limits.perIssuer);
  const config = { errorStyle: 'page' as const, malformedCode: 'upstream_invalid' as const, loginStep: 'callback' as const };
  app.post(ACS_PATH, { bodyLimit: BODY_LIMIT, config, onRequest: limitByAddress(deps.rates, perAddress) }, async (request, reply) => {
    const form = formParams(request);
    const screened = screenResponse(single(form, 'SAMLResponse'));
    const pending = await takePending(deps, screened, readCookie(request, cookies.login));
    // Every page from here on names the product the pupil is logging in to (docs/login-journey.md).
    request.product = pending?.authz.clientId;
    const asked = pending ? askedSchool(deps, pending) : unsolicitedSchool(deps, screened);
    const idp = await deps.idps.metadataOf(asked.login);
    const verified = await verify(deps, screened, idp, pending);
    await enforceRateLimit(deps.rates, perIdp, idp.entityId);
    const school = pickSchool(deps.registry(), asked, verified);
    const pupil = await personAtSchool(deps, school, upstreamIdentity(school.login, verified));
    await claimAssertion(deps, idp, verified);
    const arrival: Arrival = { pupil, authTime: verified.authTime, session: { open: true, userAgent: request.headers['user-agent'] } };
    const done = pending ? await completeLogin(deps, arrival, pending.authz) : await launch(deps, school, arrival, request);
    request.outcome = done.outcome;
    setCookie(reply, cookies.session, done.session!, deps.limits.sessionMaxSeconds);
    // 303: the browser turns the identity provider's POST into a GET (RFC 9700 section 4.12).
    return reply.code(303).header('location', done.location).send();
  });
}

/** The pending login the response answers, taken once, in its browser; undefined for an unsolicited response. */
async function takePending(deps: AcsDeps, screened: ScreenedResponse, cookie: string | undefined): Promise<PendingLogin | undefined> {
  if (screened.inResponseTo === undefined) return undefined;
  const loginId = loginIdOf(screened.inResponseTo);
  return checkPendingLogin(loginId === undefined ? undefined : await takeAtSchool(deps.kv, loginId), deps.clock.now(), cookie);
}

function askedSchool(deps: AcsDeps, pending: PendingLogin): SamlSchool {
  const school = deps.registry().schools.get(pending.school);
  if (school?.login.kind !== 'saml') throw invalid('saml_login_not_saml');
  return school as SamlSchool;
}

/** An unsolicited response names its identity provider in its Issuer; the BRIN then picks the school, whose launch setting decides. */
function unsolicitedSchool(deps: AcsDeps, screened: ScreenedResponse): SamlSchool {
  const schools = (screened.issuer === undefined ? undefined : deps.registry().schoolsBySamlIdp.get(screened.issuer)) ?? [];
  // Only an identity provider with a school that turned school-started launch on may send one.
  if (!schools.some((s) => s.allowLaunch)) throw invalid('saml_unsolicited');
  return schools[0]!;
}

const verify = async (deps: AcsDeps, screened: ScreenedResponse, idp: IdpMetadata, pending: PendingLogin | undefined): Promise<VerifiedSaml> =>
  verifyResponse(screened, {
    issuer: deps.issuer,
    idp,
    keys: await deps.spKeys.view(),
    now: deps.clock.now(),
    ...(pending ? { request: { id: screened.inResponseTo!, createdAt: pending.createdAt } } : {}),
  });

/** An assertion ID is accepted once per identity provider, for as long as the assertion could pass its time checks. */
async function claimAssertion(deps: AcsDeps, idp: IdpMetadata, verified: VerifiedSaml): Promise<void> {
  const fresh = await claimJti(deps.kv, 'samlAssertionId', idp.entityId, verified.assertionId, verified.usableUntil / 1000, deps.clock.now());
  if (!fresh) throw invalid('saml_assertion_replayed');
}

/** A school-started launch: RelayState names the product; the school must have turned launch on (launchProduct checks). */
function launch(deps: AcsDeps, school: SamlSchool, arrival: Arrival, request: FastifyRequest): Promise<Finished> {
  if (!school.allowLaunch) throw invalid('saml_unsolicited');
  const target = single(formParams(request), 'RelayState');
  if (target === undefined) throw invalid('saml_unsolicited_without_target');
  request.product = target;
  return launchProduct(deps, arrival, target);
}
