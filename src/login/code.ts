import type { ReleasedClaims } from '../release/claims.js';
import type { Kv } from '../store/kv.js';
import { kvKey } from '../store/kv-keys.js';
import { randomToken, seal, tokenHash, unseal } from '../crypto/tokens.js';

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

/** Codes live 60 s (docs/openid-connect.md, "Lifetimes"). */
export const CODE_TTL_MS = 60_000;
/** How long a redeemed code is remembered, so a replay can revoke what it issued (>= access token life). */
const REDEEMED_MARKER_TTL_MS = 10 * 60_000;
const REDEEMED = 'redeemed:';

const codeKey = (code: string) => kvKey('code', tokenHash(code));

/** Store the grant sealed under the new code; only the code's bearer can read it back. */
export async function issueCode(kv: Pick<Kv, 'set'>, grant: Grant): Promise<string> {
  const code = randomToken();
  await kv.set(codeKey(code), seal(code, grant), CODE_TTL_MS);
  return code;
}

/**
 * True when `code` is a live code issued to `clientId`. Only reads: the code
 * stays redeemable. Used as proof of a stake in the client before its remote
 * JWKS is refetched on an unknown kid (src/outbound/remote-keys.ts).
 */
export async function isLiveCodeOf(kv: Pick<Kv, 'get'>, code: string, clientId: string, now: number): Promise<boolean> {
  if (code.length === 0 || code.length > 256) return false;
  const sealed = await kv.get(codeKey(code));
  if (sealed === null || sealed.startsWith(REDEEMED)) return false;
  const grant = unseal<Grant>(code, sealed);
  return grant?.clientId === clientId && now <= grant.expiresAt;
}

export type Redemption =
  | { readonly outcome: 'granted'; readonly grant: Grant }
  | { readonly outcome: 'replayed'; readonly firstAccessTokenHash: string }
  | { readonly outcome: 'unknown' };

/**
 * Redeem a code in one atomic step (SET XX GET): the code's record is replaced
 * by a marker naming the access token this redemption will issue. Of
 * concurrent redemptions exactly one sees the grant; the others, and any later
 * one, see the marker and learn which access token to revoke (RFC 6749
 * section 4.1.2, ASVS 10.4.2).
 */
export async function redeemCode(kv: Pick<Kv, 'swap'>, code: string, accessTokenHash: string): Promise<Redemption> {
  const previous = await kv.swap(codeKey(code), `${REDEEMED}${accessTokenHash}`, REDEEMED_MARKER_TTL_MS);
  if (previous === null) return { outcome: 'unknown' };
  if (previous.startsWith(REDEEMED)) return { outcome: 'replayed', firstAccessTokenHash: previous.slice(REDEEMED.length) };
  const grant = unseal<Grant>(code, previous);
  return grant ? { outcome: 'granted', grant } : { outcome: 'unknown' };
}
