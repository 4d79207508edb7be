import { constantEqual, randomToken, seal, tokenHash, unseal } from '../crypto/tokens.js';
import { PageError } from '../errors.js';
import type { Kv, SingleUseStep } from '../store/kv.js';
import { kvKey } from '../store/kv-keys.js';

// A login between the client's /authorize and the school's answer waits in
// the KV, parked for one of two purposes (docs/redis-keys.md):
//
// - `pickSchool`: the verified authorization request while the pupil picks a
//   school on the picker page, under a random handle in the page's URL;
// - `atSchool`: the request while the pupil logs in at the school, under the
//   login id the school's answer carries back (the login request's nonce, an
//   upstream provider's state, a SAML request ID).
//
// Either is taken once (GETDEL): an answer completes only the login that asked
// for it, and only once. Values are sealed under the handle or login id, so a
// copy of the KV reveals no client's request.
//
// Both are bound to the browser that started the login (login CSRF, RFC 9700
// section 4.4.1): /authorize gives the browser a random login cookie and the
// pending login keeps its hash; whatever takes the login must come with the
// same cookie. So nobody can complete, in a victim's browser, a login they
// started in their own (their school answer posted through the victim's
// browser would open a session as them there). docs/login-journey.md.

/** A client's verified authorization request, waiting for an authenticated pupil (docs/openid-connect.md). */
export interface AuthorizationRequest {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly state?: string;
  readonly nonce?: string;
  readonly codeChallenge: string;
}

/** A pending login at the school: the request, the school it went to, the browser, and what the login method keeps. */
export interface PendingLogin {
  readonly authz: AuthorizationRequest;
  /** SHA-256 of the login cookie of the browser that started the login. */
  readonly browser: string;
  /** The school the pupil was sent to (its id). */
  readonly school: string;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  /** What the school's login method needs back with the answer (an upstream PKCE verifier and nonce, say). */
  readonly keep?: Readonly<Record<string, string>>;
}

/** docs/school-assertion.md: the login request to the school lives at most 300 s; so does every pending login. */
export const PENDING_LOGIN_TTL_S = 300;
const TTL_MS = PENDING_LOGIN_TTL_S * 1000;

/** A request waiting for the picker, and the browser it waits for. */
export interface PickingLogin {
  readonly authz: AuthorizationRequest;
  readonly browser: string;
}

/** The browser's login cookie: the one it has when well formed (parallel logins in tabs share it), else a new one. */
export function bindBrowser(cookie: string | undefined): { readonly cookie: string; readonly hash: string } {
  const value = cookie !== undefined && LOGIN_COOKIE.test(cookie) ? cookie : randomToken();
  return { cookie: value, hash: tokenHash(value) };
}
const LOGIN_COOKIE = /^[A-Za-z0-9_-]{43}$/;

/** Park the request while the pupil picks a school; the handle goes in the picker's URL. */
export async function parkForPicker(kv: Pick<Kv, 'set'>, picking: PickingLogin): Promise<string> {
  const handle = randomToken();
  await kv.set(kvKey('pickSchool', tokenHash(handle)), seal(handle, picking), TTL_MS);
  return handle;
}

/** The request the picker's handle still names, left waiting (the page is shown only then, and names its client); undefined when gone. */
export async function waitingForPicker(kv: Pick<Kv, 'get'>, handle: string): Promise<PickingLogin | undefined> {
  const sealed = await kv.get(kvKey('pickSchool', tokenHash(handle)));
  return sealed === null ? undefined : unseal<PickingLogin>(handle, sealed);
}

/** Take the request the picker was shown for, once, in the browser that started it. */
export async function takeFromPicker(kv: Pick<Kv, 'take'>, handle: string, cookie: string | undefined): Promise<PickingLogin> {
  const sealed = await kv.take(kvKey('pickSchool', tokenHash(handle)));
  const picking = sealed === null ? undefined : unseal<PickingLogin>(handle, sealed);
  if (!picking) throw expired('pending login unknown, expired or taken');
  checkBrowser(picking.browser, cookie);
  return picking;
}

/** Park the login while the pupil is at the school, under the login id the school's answer will carry. */
export async function parkAtSchool(kv: Pick<Kv, 'set'>, loginId: string, pending: PendingLogin): Promise<void> {
  await kv.set(atSchoolKey(loginId), seal(loginId, pending), TTL_MS);
}

const atSchoolKey = (loginId: string) => kvKey('atSchool', tokenHash(loginId));

/** Take the pending login an answer names, once; undefined when unknown, taken or unreadable. */
export async function takeAtSchool(kv: Pick<Kv, 'take'>, loginId: string): Promise<PendingLogin | undefined> {
  return pendingTaken(loginId, await kv.take(atSchoolKey(loginId)));
}

/** The take of the pending login an answer names, as part of a step (src/store/kv.ts). */
export const atSchoolTake = (loginId: string): SingleUseStep['take'] => ({ key: atSchoolKey(loginId) });

/** The pending login a take found; undefined when there was none or it is unreadable. */
export const pendingTaken = (loginId: string, sealed: string | null): PendingLogin | undefined =>
  sealed === null ? undefined : unseal<PendingLogin>(loginId, sealed);

/**
 * The pending login an answer may complete: present, within its lifetime (the
 * KV's TTL may lag on a paused store), and answered in the browser that started it.
 */
export function checkPendingLogin(pending: PendingLogin | undefined, now: number, cookie: string | undefined): PendingLogin {
  if (!pending) throw expired('pending login unknown, expired or taken');
  if (now > pending.createdAt + TTL_MS) throw expired('pending login older than its lifetime');
  checkBrowser(pending.browser, cookie);
  return pending;
}

function checkBrowser(expected: string, cookie: string | undefined): void {
  // Compared in constant time, though the cookie is random: no shortcut for the next reader to copy.
  if (cookie === undefined || !constantEqual(tokenHash(cookie), expected)) {
    throw new PageError('login_other_browser', 400, 'The login was started in another browser', 'login_cookie_mismatch');
  }
}

const expired = (reason: string) => new PageError('login_expired', 400, 'No pending login for this answer', reason);
