import { epochSeconds, type Clock } from '../clock.js';
import { signJwt } from '../crypto/jws.js';
import type { SigningKey } from '../crypto/signing-keys.js';
import type { School } from '../store/registry.js';
import { LOGIN_REQUEST_TTL_S } from '../oidc/transaction.js';

export const LOGIN_REQUEST_TYP = 'school-login-request+jwt';
export const ASSERTION_PATH = '/school/assertion';

/**
 * Where the browser goes to log in at its school: the school's loginUrl with
 * a request object signed by the gateway (DESIGN.md section 5).
 */
export function schoolLoginUrl(
  school: School,
  gatewayNonce: string,
  ctx: { issuer: string; clock: Clock; key: SigningKey },
): string {
  const iat = epochSeconds(ctx.clock);
  const request = signJwt(ctx.key, LOGIN_REQUEST_TYP, {
    iss: ctx.issuer,
    aud: school.issuer,
    nonce: gatewayNonce,
    return_to: `${ctx.issuer}${ASSERTION_PATH}`,
    iat,
    exp: iat + LOGIN_REQUEST_TTL_S,
  });
  const url = new URL(school.loginUrl);
  url.searchParams.set('request', request);
  return url.toString();
}
