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
import { newSession, openSession, type SessionLimits } from '../session/session.js';
import type { Kv, StepResult } from '../store/kv.js';
import type { Client, Registry } from '../store/registry.js';
import type { Disclosure } from '../privacy/disclosures.js';
import { authorizationResponseUrl } from './authorization-response.js';
import { CODE_TTL_MS, issueCode, newCodeForPending, type GrantRelease } from './code.js';
import type { LoginFor } from './login-id.js';
import { atSchoolTake, type AuthorizationRequest, type PendingLogin } from './pending.js';

// The end of every login (docs/login-journey.md). However the pupil arrived
// (an assertion answering the gateway's request, an upstream identity
// provider, the SSO session), the login is decided in decideLogin: the
// pupil's root and student ref (the objection check needs the ref, and the
// ref comes from the root), the release decision, pseudonyms and the released
// claims. It then completes with the disclosure made durable in the ledger, a
// single-use code and the redirect back to the client: in completeLogin when
// the client's request is at hand, or in completeAnswer, where the take of the
// pending login and the writes of the code and the session are one step
// (docs/redis-keys.md, "Single-use steps"). A school-started launch
// (launchProduct) asks the same decision and sends the browser to the
// product, whose /authorize then completes from the session.

export interface JourneyDeps {
  readonly issuer: string;
  readonly clock: Clock;
  readonly kv: Pick<Kv, 'set' | 'step' | 'del'>;
  readonly registry: () => Registry;
  readonly keys: KeySchedule;
  readonly roots: Pick<RootCache, 'rootFor'>;
  /** Every release is recorded here before its code is handed out (docs/privacy.md). */
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

/** A login decided: the release for the client, the grant it makes (less the client's request) and the ledger's row. */
interface Decided {
  readonly client: Client;
  readonly release: GrantRelease;
  readonly disclosure: Disclosure;
}

/** A verified person and the client they log in to: the release, or a refusal page. No write. */
async function decideLogin(deps: JourneyDeps, arrival: Arrival, clientId: string): Promise<Decided> {
  const { pupil } = arrival;
  const now = deps.clock.now();
  const day = schoolDay(now);
  const { root, refs } = await identify(deps, pupil);
  const { client, supplier, claims } = released(decideRelease({ registry: deps.registry(), clientId, pupil, refs, day }));
  const pseudonyms = pseudonymsAt(supplier, pupil.school, root, { keys: deps.keys, now });
  const release: GrantRelease = {
    clientId: client.clientId,
    sub: pseudonyms.sub,
    ...(pseudonyms.previousSub === undefined ? {} : { previousSub: pseudonyms.previousSub }),
    claims: releaseClaims(claims, pupil, pseudonyms.group),
    authTime: Math.min(arrival.authTime, epochSeconds(deps.clock)),
    expiresAt: now + CODE_TTL_MS,
  };
  const disclosure = { school: pupil.school, studentRef: refs.ref, client: client.clientId, supplier: supplier.id, claims: Object.keys(release.claims), day };
  return { client, release, disclosure };
}

function finished(deps: JourneyDeps, { client, disclosure }: Decided, authz: AuthorizationRequest, code: string, session: string | undefined): Finished {
  return {
    // 303 everywhere: after the school's POST the browser must turn it into a GET (RFC 9700 section 4.12).
    location: authorizationResponseUrl(authz.redirectUri, { code }, authz.state, deps.issuer),
    outcome: { client: client.clientId, school: disclosure.school, released: disclosure.claims },
    ...(session === undefined ? {} : { session }),
  };
}

/** A verified person and a client's pending request in; a code on its way to the client, or a refusal page. */
export async function completeLogin(deps: JourneyDeps, arrival: Arrival, authz: AuthorizationRequest): Promise<Finished> {
  const decided = await decideLogin(deps, arrival, authz.clientId);
  // Durable before the code exists: a release that cannot be recorded does not happen.
  await deps.ledger.record(decided.disclosure);
  // The code and the session are written together, once the release is approved and recorded.
  const [code, session] = await Promise.all([issueCode(deps.kv, decided.release, authz), openIfFresh(deps, arrival)]);
  return finished(deps, decided, authz, code, session);
}

/** The answer to a pending login, as the route that received it: the claim of the answer's id, and its own checks. */
export interface Answer {
  /** The login id the answer carries, and whom it was made for (src/login/login-id.ts). */
  readonly loginId: string;
  readonly for: LoginFor;
  /** The claim of the answer's own id (its jti), made in the same step: a replay takes nothing. */
  readonly claim: { readonly key: string; readonly ttlMs: number };
  /** The route's checks of what the step found (src/login/pending.ts reads the pending login from it), in order; each refusal is a page. */
  readonly accept: (step: StepResult) => PendingLogin;
}

/**
 * An answer whose login id names its client: the release is decided first, then
 * one step claims the answer's id, takes the pending login and writes the code
 * and the session (docs/redis-keys.md, "Single-use steps"). A refused answer
 * takes nothing, or leaves a code and a session nobody was given, deleted at once.
 */
export async function completeAnswer(deps: JourneyDeps, arrival: Arrival, answer: Answer): Promise<Finished> {
  const decided = await decideLogin(deps, arrival, answer.for.clientId);
  const code = newCodeForPending(decided.release, answer.loginId);
  const { pupil, authTime, session: opens } = arrival;
  const session = opens.open ? newSession(deps, pupil, authTime, opens.userAgent) : undefined;
  const puts = session === undefined ? [code.put] : [code.put, session.put];
  const step = await deps.kv.step({ claim: answer.claim, take: atSchoolTake(answer.loginId), put: puts });
  try {
    const pending = answer.accept(step);
    // Both come from the gateway's own login id and pending login: never apart, checked all the same.
    if (pending.authz.clientId !== answer.for.clientId || pending.school !== answer.for.school) {
      throw new PageError('login_expired', 400, 'No pending login for this answer', 'login_id_mismatch');
    }
    // Durable before the code is handed out: a release that cannot be recorded does not happen.
    await deps.ledger.record(decided.disclosure);
    return finished(deps, decided, pending.authz, code.code, session?.cookie);
  } catch (err) {
    if (step.written) for (const put of puts) void deps.kv.del(put.key).catch(() => undefined);
    throw err;
  }
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
