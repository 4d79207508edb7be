import { epochSeconds, type Clock } from '../clock.js';
import type { KeySchedule } from '../crypto/key-schedule.js';
import { pupilInput, type PupilRefs, type PupilRoot } from '../crypto/pseudonym.js';
import { pseudonymsAt } from '../crypto/pupil-pseudonyms.js';
import type { RootCache } from '../crypto/root-cache.js';
import { PageError } from '../errors.js';
import type { DisclosureLedger } from '../privacy/ledger.js';
import { refsAtLogin } from '../privacy/pupil-refs.js';
import type { RefTransition } from '../privacy/ref-transition.js';
import { releaseClaims } from '../release/claims.js';
import { decideRelease, type Release, type ReleaseDecision, type ReleaseRefusal } from '../release/decide.js';
import { schoolDay } from '../release/licence.js';
import type { Pupil } from '../release/pupil.js';
import { openSession, type SessionLimits } from '../session/session.js';
import type { Kv } from '../store/kv.js';
import type { Registry } from '../store/registry.js';
import { authorizationResponseUrl } from './authorization-response.js';
import { CODE_TTL_MS, issueCode, type Grant } from './code.js';
import type { AuthorizationRequest } from './pending.js';

// The end of every login (docs/login-journey.md). However the pupil arrived
// (an assertion answering the gateway's request, an upstream identity
// provider, the SSO session), the login completes in completeLogin: the
// pupil's root and student ref (the objection check needs the ref, and the
// ref comes from the root), the release decision, pseudonyms, the released
// claims, the disclosure made
// durable in the ledger, a single-use code and the redirect back to the
// client. A school-started launch (launchProduct) asks the same decision and
// sends the browser to the product, whose /authorize then completes from the
// session.

export interface JourneyDeps {
  readonly issuer: string;
  readonly clock: Clock;
  readonly kv: Pick<Kv, 'set'>;
  readonly registry: () => Registry;
  readonly keys: KeySchedule;
  readonly roots: Pick<RootCache, 'rootFor'>;
  /** Every release is recorded here before its code exists (docs/privacy.md). */
  readonly ledger: Pick<DisclosureLedger, 'record'>;
  /** Rows under the first form of the pupil's ref move to it at the login (docs/pseudonyms.md). */
  readonly refTransition: Pick<RefTransition, 'atLogin'>;
  readonly sessionLimits: SessionLimits;
}

/** A person the school (or the SSO session) vouched for. */
export interface Arrival {
  readonly pupil: Pupil;
  /** Seconds since the epoch: when the school authenticated the person (id_token auth_time). */
  readonly authTime: number;
  /** A fresh school login opens the SSO session in this browser; a login from the session keeps it. */
  readonly session: { readonly open: true; readonly userAgent: string | undefined } | { readonly open: false };
}

export interface Finished {
  /** Where the browser goes next: the client's redirect URI with code, state and iss, or the product's login initiation. */
  readonly location: string;
  /** What the request decided, for its log line: never a pupil value. */
  readonly outcome: Record<string, unknown>;
  /** The cookie of the SSO session the school login opened. */
  readonly session?: string;
}

const REFUSALS: Record<ReleaseRefusal, () => PageError> = {
  unknown_client: () => new PageError('unknown_client_or_redirect_uri', 400, 'The client is no longer registered'),
  no_licence: () => new PageError('no_licence', 403, 'The school has no licence for this client'),
  objection: () => new PageError('objection', 403, 'An objection stops releases to this client'),
};

function released(decision: ReleaseDecision): Release {
  if ('refused' in decision) throw REFUSALS[decision.refused]();
  return decision.release;
}

/** The pupil's root (cache, or scrypt off the main thread) and student refs. */
async function identify(deps: JourneyDeps, pupil: Pupil): Promise<{ root: PupilRoot; refs: PupilRefs }> {
  const input = pupilInput(pupil.school, pupil.studentKey);
  const root = await deps.roots.rootFor(input);
  return { root, refs: await refsAtLogin(deps, pupil.school, input, root) };
}

const openIfFresh = (deps: JourneyDeps, { pupil, authTime, session }: Arrival): Promise<string | undefined> =>
  session.open ? openSession(deps, pupil, authTime, session.userAgent) : Promise.resolve(undefined);

/** A verified person and a client's pending request in; a code on its way to the client, or a refusal page. */
export async function completeLogin(deps: JourneyDeps, arrival: Arrival, authz: AuthorizationRequest): Promise<Finished> {
  const { pupil } = arrival;
  const now = deps.clock.now();
  const day = schoolDay(now);
  const { root, refs } = await identify(deps, pupil);
  const { client, supplier, claims } = released(decideRelease({ registry: deps.registry(), clientId: authz.clientId, pupil, refs, day }));
  const pseudonyms = pseudonymsAt(supplier, pupil.school, root, { keys: deps.keys, now });
  const grant: Grant = {
    clientId: client.clientId,
    redirectUri: authz.redirectUri,
    codeChallenge: authz.codeChallenge,
    ...(authz.nonce === undefined ? {} : { nonce: authz.nonce }),
    sub: pseudonyms.sub,
    ...(pseudonyms.previousSub === undefined ? {} : { previousSub: pseudonyms.previousSub }),
    claims: releaseClaims(claims, pupil, pseudonyms.group),
    authTime: Math.min(arrival.authTime, epochSeconds(deps.clock)),
    expiresAt: now + CODE_TTL_MS,
  };
  const names = Object.keys(grant.claims);
  // Durable before the code exists: a release that cannot be recorded does not happen.
  await deps.ledger.record({ school: pupil.school, studentRef: refs.ref, client: client.clientId, supplier: supplier.id, claims: names, day });
  // The code and the session are written together, once the release is approved and recorded.
  const [code, session] = await Promise.all([issueCode(deps.kv, grant), openIfFresh(deps, arrival)]);
  return {
    // 303 everywhere: after the school's POST the browser must turn it into a GET (RFC 9700 section 4.12).
    location: authorizationResponseUrl(authz.redirectUri, { code }, authz.state, deps.issuer),
    outcome: { client: client.clientId, school: pupil.school, released: names },
    ...(session === undefined ? {} : { session }),
  };
}

/**
 * A school-started launch (the portal tile): the same decision for the
 * product the school asked to open, then the browser goes to the product's
 * login initiation endpoint (OIDC Core section 4), told who its provider is.
 */
export async function launchProduct(deps: JourneyDeps, arrival: Arrival, target: string): Promise<Finished> {
  const { pupil } = arrival;
  const registry = deps.registry();
  // A launch opens a session in whatever browser posts it, so each school turns it on deliberately.
  if (registry.schools.get(pupil.school)?.allowLaunch !== true) throw new PageError('launch_not_allowed', 403, 'The school has not turned on school-started launch');
  const client = registry.clients.get(target);
  if (!client) throw new PageError('unknown_product', 404, 'The school asked to open an unknown product', 'launch_unknown_target');
  if (client.initiateLoginUri === undefined) throw new PageError('launch_not_supported', 400, 'The product cannot be opened from the school portal');
  const { refs } = await identify(deps, pupil);
  released(decideRelease({ registry, clientId: client.clientId, pupil, refs, day: schoolDay(deps.clock.now()) }));
  const session = await openIfFresh(deps, arrival);
  const url = new URL(client.initiateLoginUri);
  url.searchParams.set('iss', deps.issuer);
  return { location: url.toString(), outcome: { client: client.clientId, school: pupil.school, launch: true }, ...(session === undefined ? {} : { session }) };
}
