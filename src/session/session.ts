import { epochSeconds, type Clock } from '../clock.js';
import { randomToken, seal, tokenHash, unseal } from '../crypto/tokens.js';
import type { Pupil } from '../release/pupil.js';
import type { Kv } from '../store/kv.js';
import { kvKey } from '../store/kv-keys.js';

// The SSO session: one school login, then every licensed learning material
// opens from the same browser until the session ends (idle or absolute limit).
//
// The cookie holds 256 random bits. The KV stores the session under the
// cookie's hash, sealed (AES-256-GCM) with a key derived from the cookie
// itself: a copy of Redis holds neither a usable cookie nor any pupil data.
// The KV entry's TTL is the idle limit, renewed on use; the absolute limit is
// checked against the creation time inside the sealed record.

export interface Session {
  readonly pupil: Pupil;
  /** Seconds since the epoch: when the school authenticated the user (id_token auth_time). */
  readonly authTime: number;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  /** SHA-256 of the User-Agent that logged in: a cookie replayed from another browser opens nothing. */
  readonly agent: string;
}

const key = (cookie: string) => kvKey('session', tokenHash(cookie));
const COOKIE = /^[A-Za-z0-9_-]{43}$/;

export const agentOf = (userAgent: string | undefined): string => tokenHash(userAgent ?? '');

export interface SessionLimits {
  readonly idleMs: number;
  readonly maxMs: number;
}

/** What the session functions use: the KV, the clock and the limits (SESSION_IDLE_SECONDS, SESSION_MAX_SECONDS). */
export interface SessionDeps {
  readonly kv: Pick<Kv, 'get' | 'set' | 'swap' | 'del'>;
  readonly clock: Clock;
  readonly sessionLimits: SessionLimits;
}

/** A new session for the pupil: its cookie, and the write that stores it (a put of a step, src/store/kv.ts). */
export function newSession(deps: { clock: Clock; sessionLimits: SessionLimits }, pupil: Pupil, authTime: number, userAgent: string | undefined): { cookie: string; put: { key: string; value: string; ttlMs: number } } {
  const cookie = randomToken();
  const session: Session = { pupil, authTime, createdAt: deps.clock.now(), agent: agentOf(userAgent) };
  return { cookie, put: { key: key(cookie), value: seal(cookie, session), ttlMs: deps.sessionLimits.idleMs } };
}

/** A new session for the pupil, stored; returns the cookie value. */
export async function openSession(deps: { kv: Pick<Kv, 'set'>; clock: Clock; sessionLimits: SessionLimits }, pupil: Pupil, authTime: number, userAgent: string | undefined): Promise<string> {
  const { cookie, put } = newSession(deps, pupil, authTime, userAgent);
  await deps.kv.set(put.key, put.value, put.ttlMs);
  return cookie;
}

export type SessionLookup =
  | { readonly found: Session }
  | { readonly missing: 'none' | 'unknown' | 'expired' | 'other_browser' };

/**
 * The live session behind a cookie, renewing its idle limit; anything else
 * (no cookie, malformed, unknown, expired, another browser) is no session.
 * A session presented by another browser is ended: its cookie has leaked.
 */
export async function findSession(deps: SessionDeps, cookie: string | undefined, userAgent: string | undefined): Promise<SessionLookup> {
  if (cookie === undefined) return { missing: 'none' };
  if (!COOKIE.test(cookie)) return { missing: 'unknown' };
  const sealed = await deps.kv.get(key(cookie));
  const session = sealed === null ? undefined : unseal<Session>(cookie, sealed);
  if (!session) return { missing: 'unknown' };
  const { idleMs, maxMs } = deps.sessionLimits;
  const left = session.createdAt + maxMs - deps.clock.now();
  if (left <= 0) {
    await deps.kv.del(key(cookie));
    return { missing: 'expired' };
  }
  if (session.agent !== agentOf(userAgent)) {
    await deps.kv.del(key(cookie));
    return { missing: 'other_browser' };
  }
  // SET XX: renewing never brings back a session that logout has just ended.
  const renewed = await deps.kv.swap(key(cookie), sealed!, Math.min(idleMs, left));
  return renewed === null ? { missing: 'unknown' } : { found: session };
}

export async function endSession(kv: Pick<Kv, 'del'>, cookie: string | undefined): Promise<void> {
  if (cookie !== undefined && COOKIE.test(cookie)) await kv.del(key(cookie));
}

/** Seconds since the school login, for max_age (OIDC Core section 3.1.2.1). */
export const sessionAge = (clock: Clock, session: Session): number => epochSeconds(clock) - session.authTime;
