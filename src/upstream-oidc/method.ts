import * as client from 'openid-client';
import type { LoginMethod } from '../login/methods.js';
import type { OidcLogin, School } from '../store/registry.js';
import { CALLBACK_PATH } from './paths.js';
import type { UpstreamProviders } from './providers.js';
import { upstreamFailure, withinTime } from './upstream-errors.js';

// The login method "oidc" (docs/upstream-oidc.md): the browser goes to the
// upstream provider's authorization endpoint, authorization code flow with
// PKCE S256 (RFC 7636), `state` = the login id (it names the pending login,
// RFC 6749 section 10.12) and a fresh `nonce` (OIDC Core 3.1.2.1). The
// verifier and nonce stay with the pending login, never in the browser.

export interface OidcMethodDeps {
  readonly issuer: string;
  readonly providers: UpstreamProviders;
  readonly timeoutMs: number;
}

/** What the callback needs back from the pending login. */
export interface KeptForCallback {
  readonly verifier: string;
  readonly nonce: string;
}

export const redirectUriOf = (issuer: string) => `${issuer}${CALLBACK_PATH}`;

export function oidcLogin(school: School): OidcLogin {
  if (school.login.kind !== 'oidc') throw new TypeError('the oidc method serves oidc schools only');
  return school.login;
}

export const oidcMethod = (deps: OidcMethodDeps): LoginMethod => ({
  async begin(school, loginId) {
    const login = oidcLogin(school);
    const config = await withinTime(deps.providers.configFor(login), deps.timeoutMs).catch((err: unknown) => {
      throw upstreamFailure(err);
    });
    const verifier = client.randomPKCECodeVerifier();
    const nonce = client.randomNonce();
    const location = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUriOf(deps.issuer),
      response_type: 'code',
      scope: login.scopes.join(' '),
      state: loginId,
      nonce,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const keep: KeptForCallback = { verifier, nonce };
    return { location: location.href, keep: { ...keep } };
  },
});
