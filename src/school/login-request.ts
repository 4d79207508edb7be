import { epochSeconds, type Clock } from '../clock.js';
import { signJwt } from '../crypto/jws.js';
import type { SigningKeys } from '../crypto/signing-keys.js';
import type { LoginMethod } from '../login/methods.js';
import { PENDING_LOGIN_TTL_S } from '../login/pending.js';
import type { AssertionLogin } from '../store/registry.js';

// The login method "assertion" (docs/school-assertion.md): the browser goes to
// the school's loginUrl with a request object signed by the gateway; the
// school posts its signed assertion back to ASSERTION_PATH.

export const LOGIN_REQUEST_TYP = 'school-login-request+jwt';
export const ASSERTION_PATH = '/school/assertion';

export interface LoginRequestDeps {
  readonly issuer: string;
  readonly clock: Clock;
  readonly signing: Pick<SigningKeys, 'current'>;
}

/** Where the browser goes to log in at its school; `gatewayNonce` comes back in the assertion. */
export function schoolLoginUrl(login: AssertionLogin, gatewayNonce: string, deps: LoginRequestDeps): string {
  const iat = epochSeconds(deps.clock);
  const request = signJwt(deps.signing.current, LOGIN_REQUEST_TYP, {
    iss: deps.issuer,
    aud: login.issuer,
    nonce: gatewayNonce,
    return_to: `${deps.issuer}${ASSERTION_PATH}`,
    iat,
    exp: iat + PENDING_LOGIN_TTL_S,
  });
  const url = new URL(login.loginUrl);
  url.searchParams.set('request', request);
  return url.toString();
}

/** The login method of schools that sign the gateway's assertion: the login id is the request's nonce. */
export const assertionMethod = (deps: LoginRequestDeps): LoginMethod => ({
  begin: (school, loginId) => {
    if (school.login.kind !== 'assertion') throw new TypeError('the assertion method serves assertion schools only');
    return { location: schoolLoginUrl(school.login, loginId, deps) };
  },
});
