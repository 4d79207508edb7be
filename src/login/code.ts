import type { ReleasedClaims } from '../release/claims.js';
import type { Kv, SingleUseStep, StepResult } from '../store/kv.js';
import { kvKey } from '../store/kv-keys.js';
import { randomToken, seal, tokenHash, unseal } from '../crypto/tokens.js';
import type { AuthorizationRequest, PendingLogin } from './pending.js';

// The authorization code: where a login ends (src/login/journey.ts writes it)
// and /token begins (src/oidc/token.ts redeems it).

/** What an authorization code stands for: everything /token needs, bound to client, redirect URI and PKCE. */
export interface Grant {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly nonce?: string;
  readonly sub: string;
  readonly previousSub?: string;
  readonly claims: ReleasedClaims;
  /** Seconds since the epoch: when the school authenticated the user. */
  readonly authTime: number;
  /** Milliseconds since the epoch. */
  readonly expiresAt: number;
}

/** What the login decided: the grant less what the client's authorization request holds. */
export type GrantRelease = Omit<Grant, 'redirectUri' | 'codeChallenge' | 'nonce'>;

/** Codes live 60 s (docs/openid-connect.md, "Lifetimes"). */
export const CODE_TTL_MS = 60_000;
/** How long a redeemed code is remembered, so a replay can revoke what it issued (>= access token life). */
const REDEEMED_MARKER_TTL_MS = 10 * 60_000;
const REDEEMED = 'redeemed:';

// A code's record (docs/redis-keys.md), sealed under the code: the release and the client's request;
// or, when the code is written in the same step that takes the pending login (an assertion's answer),
// the release and the login id, followed after `~` by the pending login as it was parked (sealed under
// the login id, which the code's record holds).
interface CodeRecord {
  readonly release: GrantRelease;
  readonly authz?: AuthorizationRequest;
  readonly loginId?: string;
}
const AFTER = '~';

const codeKey = (code: string) => kvKey('code', tokenHash(code));

/** Codes are 43 characters; anything longer than this is no code, refused before any work (and any KV round trip). */
export const MAX_CODE_LENGTH = 256;
export const isCodeShaped = (code: string): boolean => code.length > 0 && code.length <= MAX_CODE_LENGTH;

/**
 * A new code whose record is completed by the step that takes the pending login `loginId` names:
 * a put of that step (src/store/kv.ts), the pending login appended as it is taken.
 */
export function newCodeForPending(release: GrantRelease, loginId: string): { code: string; put: SingleUseStep['put'][number] } {
  const code = randomToken();
  return { code, put: { key: codeKey(code), value: seal(code, { release, loginId } satisfies CodeRecord) + AFTER, ttlMs: CODE_TTL_MS, appendTaken: true } };
}

/** Store the grant sealed under a new code; only the code's bearer can read it back. */
export async function issueCode(kv: Pick<Kv, 'set'>, release: GrantRelease, authz: AuthorizationRequest): Promise<string> {
  const code = randomToken();
  await kv.set(codeKey(code), seal(code, { release, authz } satisfies CodeRecord), CODE_TTL_MS);
  return code;
}

/** The grant a code's record holds; undefined when the record is not one for this code. */
export function readGrant(code: string, record: string): Grant | undefined {
  const cut = record.indexOf(AFTER);
  const stored = unseal<CodeRecord | Grant>(code, cut < 0 ? record : record.slice(0, cut));
  if (!stored) return undefined;
  // A record written before a code's record held the release apart (the grant itself): codes live 60 s, so
  // this reads only those still in flight across the upgrade.
  if (!('release' in stored)) return 'redirectUri' in stored ? stored : undefined;
  const authz = stored.authz ?? (stored.loginId === undefined || cut < 0 ? undefined : unseal<PendingLogin>(stored.loginId, record.slice(cut + 1))?.authz);
  if (!authz) return undefined;
  return {
    ...stored.release,
    redirectUri: authz.redirectUri,
    codeChallenge: authz.codeChallenge,
    ...(authz.nonce === undefined ? {} : { nonce: authz.nonce }),
  };
}

/**
 * True when `code` is a live code issued to `clientId`. Only reads: the code
 * stays redeemable. Used as proof of a stake in the client before its remote
 * JWKS is refetched on an unknown kid (src/outbound/remote-keys.ts).
 */
export async function isLiveCodeOf(kv: Pick<Kv, 'get'>, code: string, clientId: string, now: number): Promise<boolean> {
  if (!isCodeShaped(code)) return false;
  const record = await kv.get(codeKey(code));
  if (record === null || record.startsWith(REDEEMED)) return false;
  const grant = readGrant(code, record);
  return grant?.clientId === clientId && now <= grant.expiresAt;
}

export type Redemption =
  | { readonly outcome: 'granted'; readonly grant: Grant }
  | { readonly outcome: 'replayed'; readonly firstAccessTokenHash: string }
  | { readonly outcome: 'unknown' };

/**
 * The take of a code's redemption, for the step at /token: the code's record is
 * replaced by a marker naming the access token this redemption issues. Of
 * concurrent redemptions exactly one sees the grant; the others, and any later
 * one, see the marker and learn which access token to revoke (RFC 6749
 * section 4.1.2, ASVS 10.4.2).
 */
export const redemptionTake = (code: string, accessTokenHash: string): SingleUseStep['take'] => ({
  key: codeKey(code),
  leave: { value: `${REDEEMED}${accessTokenHash}`, ttlMs: REDEEMED_MARKER_TTL_MS, usedPrefix: REDEEMED },
});

/** What a redemption step found. */
export function redemptionOf(code: string, { taken }: StepResult): Redemption {
  if (taken === null) return { outcome: 'unknown' };
  if (taken.startsWith(REDEEMED)) return { outcome: 'replayed', firstAccessTokenHash: taken.slice(REDEEMED.length) };
  const grant = readGrant(code, taken);
  return grant ? { outcome: 'granted', grant } : { outcome: 'unknown' };
}
