import { epochSeconds, type Clock } from '../clock.js';
import { signJwt } from '../crypto/jws.js';
import type { SigningKey } from '../crypto/signing-keys.js';
import type { Grant } from '../login/code.js';

/** id_tokens live 5 minutes (docs/openid-connect.md, "Lifetimes"). */
export const ID_TOKEN_TTL_S = 300;

/** The id_token: the standard claims, the pseudonym as sub, and exactly the released claims. */
export function signIdToken(grant: Grant, ctx: { issuer: string; clock: Clock; key: SigningKey }): string {
  const iat = epochSeconds(ctx.clock);
  return signJwt(ctx.key, 'JWT', {
    ...grant.claims,
    ...(grant.previousSub === undefined ? {} : { previous_sub: grant.previousSub }),
    iss: ctx.issuer,
    aud: grant.clientId,
    sub: grant.sub,
    iat,
    exp: iat + ID_TOKEN_TTL_S,
    auth_time: grant.authTime,
    ...(grant.nonce === undefined ? {} : { nonce: grant.nonce }),
  });
}
