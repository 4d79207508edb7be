import { epochSeconds } from '../clock.js';
import type { GatewayContext } from '../context.js';
import { pupilInput, type PupilRefs, type PupilRoot } from '../crypto/pseudonym.js';
import { pseudonymsAt } from '../crypto/pupil-pseudonyms.js';
import { refsAtLogin } from '../privacy/pupil-refs.js';
import { PageError } from '../errors.js';
import { authorizationResponseUrl } from '../oidc/authorization-response.js';
import { CODE_TTL_MS, issueCode, type Grant } from '../oidc/code.js';
import { releaseClaims, releasedNames } from '../release/claims.js';
import { findLicence, schoolDay } from '../release/licence.js';
import type { Pupil } from '../release/pupil.js';
import type { Client, Licence, Supplier } from '../store/registry.js';

// The end of every login, whichever way the pupil was authenticated (a fresh
// school assertion or the SSO session), in order: the client, the licence,
// the pupil's root and student ref (the ref comes from the root), the
// parents' objections, pseudonyms, the released claims, the disclosure made
// durable in the ledger, a single-use code, and the redirect back.

/** A client's verified authorization request, waiting for an authenticated pupil. */
export interface AuthorizationRequest {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly state?: string;
  readonly nonce?: string;
  readonly codeChallenge: string;
}

export interface Completed {
  /** The client's redirect URI with code, state and iss. */
  readonly location: string;
  /** What the request decided, for its log line. */
  readonly outcome: Record<string, unknown>;
}

/** The client (still registered) with its supplier, or a page. */
export function registeredClient(ctx: GatewayContext, clientId: string): { client: Client; supplier: Supplier } {
  const registry = ctx.registry();
  const client = registry.clients.get(clientId);
  const supplier = client && registry.suppliers.get(client.supplier);
  if (!client || !supplier) throw new PageError('unknown_client_or_redirect_uri', 400, 'The client is no longer registered');
  return { client, supplier };
}

/** The licence under which the pupil may use the client today, or the no-licence page (DESIGN.md section 7). */
export function licenceFor(ctx: GatewayContext, client: Client, pupil: Pupil): Licence {
  const licence = findLicence(ctx.registry().licencesFor(pupil.school, client.clientId), pupil, schoolDay(ctx.clock.now()));
  if (!licence) throw new PageError('no_licence', 403, 'The school has no licence for this client');
  return licence;
}

/** The pupil's root (cache or scrypt) and student refs: what the objection check, the pseudonyms and the ledger need. */
export async function identifyPupil(ctx: GatewayContext, pupil: Pupil): Promise<{ root: PupilRoot; refs: PupilRefs }> {
  const input = pupilInput(pupil.school, pupil.studentKey);
  const root = await ctx.roots.rootFor(input);
  return { root, refs: await refsAtLogin(ctx, pupil.school, input, root) };
}

/** DESIGN.md section 7: a parent's objection stops every release to that client (or supplier). */
export function refuseObjected(ctx: GatewayContext, client: Client, supplier: Supplier, refs: PupilRefs): void {
  if (ctx.registry().objectsTo(refs, client.clientId, supplier.id)) throw new PageError('objection', 403, 'An objection stops releases to this client');
}

/** A release that passed every check and is recorded in the ledger: only its code is still to be issued. */
export interface ApprovedRelease {
  readonly request: AuthorizationRequest;
  readonly grant: Grant;
  readonly outcome: Record<string, unknown>;
}

/** Everything up to the code: client, licence, objections, pseudonyms, released claims, the ledger. */
export async function approveRelease(
  ctx: GatewayContext, request: AuthorizationRequest, pupil: Pupil, authTime: number,
): Promise<ApprovedRelease> {
  const { client, supplier } = registeredClient(ctx, request.clientId);
  const licence = licenceFor(ctx, client, pupil);
  const { root, refs } = await identifyPupil(ctx, pupil);
  refuseObjected(ctx, client, supplier, refs);
  const now = ctx.clock.now();
  const pseudonyms = pseudonymsAt(supplier, pupil.school, root, { keys: ctx.keys, now });
  const grant: Grant = {
    clientId: client.clientId,
    redirectUri: request.redirectUri,
    codeChallenge: request.codeChallenge,
    ...(request.nonce === undefined ? {} : { nonce: request.nonce }),
    sub: pseudonyms.sub,
    ...(pseudonyms.previousSub === undefined ? {} : { previousSub: pseudonyms.previousSub }),
    claims: releaseClaims(releasedNames(licence, client), pupil, pseudonyms.group),
    authTime: Math.min(authTime, epochSeconds(ctx.clock)),
    expiresAt: now + CODE_TTL_MS,
  };
  const released = Object.keys(grant.claims);
  // Durable before the code exists: a release that cannot be recorded does not happen.
  await ctx.ledger.record({ school: pupil.school, studentRef: refs.ref, client: client.clientId, supplier: supplier.id, claims: released, day: schoolDay(now) });
  return { request, grant, outcome: { client: client.clientId, school: pupil.school, released } };
}

/** The single-use code for an approved release, and the redirect that carries it back to the client. */
export async function issueRedirect(ctx: GatewayContext, { request, grant, outcome }: ApprovedRelease): Promise<Completed> {
  const code = await issueCode(ctx.kv, grant);
  return {
    // 303 everywhere: after the school's POST the browser must turn it into a GET (RFC 9700 section 4.12).
    location: authorizationResponseUrl(request.redirectUri, { code }, request.state, ctx.issuer),
    outcome,
  };
}

export async function completeAuthorization(
  ctx: GatewayContext, request: AuthorizationRequest, pupil: Pupil, authTime: number,
): Promise<Completed> {
  return issueRedirect(ctx, await approveRelease(ctx, request, pupil, authTime));
}
