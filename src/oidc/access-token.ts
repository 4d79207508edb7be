import type { ReleasedClaims } from '../release/claims.js';
import type { Kv } from '../store/kv.js';
import { seal, tokenHash, unseal } from '../crypto/tokens.js';
import { kvKey } from '../store/kv-keys.js';

/** What /userinfo may answer for an access token. */
export interface AccessGrant {
  readonly clientId: string;
  readonly sub: string;
  readonly previousSub?: string;
  readonly claims: ReleasedClaims;
}

/** Opaque, valid only at our userinfo, 5 minutes (docs/openid-connect.md, "Lifetimes"). */
export const ACCESS_TOKEN_TTL_S = 300;

const key = (hash: string) => kvKey('accessToken', hash);

/** False when the token was revoked before it could be stored (a code replay raced its first redemption). */
export async function storeAccessToken(kv: Pick<Kv, 'setIfAbsent'>, token: string, grant: AccessGrant): Promise<boolean> {
  return kv.setIfAbsent(key(tokenHash(token)), seal(token, grant), ACCESS_TOKEN_TTL_S * 1000);
}

export async function findAccessToken(kv: Pick<Kv, 'get'>, token: string): Promise<AccessGrant | undefined> {
  const sealed = await kv.get(key(tokenHash(token)));
  return sealed ? unseal<AccessGrant>(token, sealed) : undefined;
}

export async function revokeAccessToken(kv: Pick<Kv, 'set'>, tokenHashValue: string): Promise<void> {
  // A tombstone, not a delete: a store that lands after the revocation must not bring the token back.
  await kv.set(key(tokenHashValue), 'revoked', ACCESS_TOKEN_TTL_S * 1000);
}
