import type { ReleasedClaims } from '../release/claims.js';
import type { Kv, SingleUseStep } from '../store/kv.js';
import { seal, tokenHash, unseal } from '../crypto/tokens.js';
import { kvKey } from '../store/kv-keys.js';
import { readGrant } from '../login/code.js';

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

// An access token's record (docs/redis-keys.md): the code it was issued for, sealed under the token,
// then after `~` the code's record as the redemption took it (src/login/code.ts). So the token is
// written in the same step that redeems the code, and only the token's bearer can read either.
const AFTER = '~';

/** The put of the redemption step at /token that records the access token (SET NX: a revocation that came first stays). */
export const accessTokenPut = (token: string, code: string): SingleUseStep['put'][number] => ({
  key: key(tokenHash(token)),
  value: seal(token, { code }) + AFTER,
  ttlMs: ACCESS_TOKEN_TTL_S * 1000,
  appendTaken: true,
});

export async function findAccessToken(kv: Pick<Kv, 'get'>, token: string): Promise<AccessGrant | undefined> {
  const record = await kv.get(key(tokenHash(token)));
  if (record === null) return undefined;
  const cut = record.indexOf(AFTER);
  // A token recorded before its record named its code (the access grant itself): for the 300 s such a token lives across the upgrade.
  if (cut < 0) return unseal<AccessGrant>(token, record);
  const code = unseal<{ code: string }>(token, record.slice(0, cut))?.code;
  const grant = code === undefined ? undefined : readGrant(code, record.slice(cut + 1));
  if (!grant) return undefined;
  return { clientId: grant.clientId, sub: grant.sub, ...(grant.previousSub === undefined ? {} : { previousSub: grant.previousSub }), claims: grant.claims };
}

/** Delete the record of a token that was never handed out (its redemption was refused after the step that wrote it). */
export async function discardAccessToken(kv: Pick<Kv, 'del'>, token: string): Promise<void> {
  await kv.del(key(tokenHash(token))).catch(() => undefined);
}

export async function revokeAccessToken(kv: Pick<Kv, 'set'>, tokenHashValue: string): Promise<void> {
  // A tombstone, not a delete: a store that lands after the revocation must not bring the token back.
  await kv.set(key(tokenHashValue), 'revoked', ACCESS_TOKEN_TTL_S * 1000);
}
