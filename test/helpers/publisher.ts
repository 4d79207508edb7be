import * as oidc from 'openid-client';
import type { TestKey } from './keys.js';

/** A publisher: a real, certified OpenID relying party (openid-client) registered at the gateway. */
export class TestPublisher {
  private constructor(
    readonly config: oidc.Configuration,
    readonly clientId: string,
    readonly redirectUri: string,
  ) {}

  static async create(gatewayUrl: string, clientId: string, redirectUri: string, auth: { key: TestKey } | { secret: string }): Promise<TestPublisher> {
    const clientAuth = 'key' in auth ? oidc.PrivateKeyJwt({ key: auth.key.privateKey, kid: auth.key.kid }) : oidc.ClientSecretBasic(auth.secret);
    const config = await oidc.discovery(new URL(gatewayUrl), clientId, {}, clientAuth, { execute: [oidc.allowInsecureRequests] });
    return new TestPublisher(config, clientId, redirectUri);
  }

  async startLogin(extra: Record<string, string> = {}) {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(this.config, {
      redirect_uri: this.redirectUri,
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...extra,
    });
    return { url, verifier, state, nonce };
  }

  finishLogin(callback: URL, started: { verifier: string; state: string; nonce: string }) {
    return oidc.authorizationCodeGrant(this.config, callback, {
      pkceCodeVerifier: started.verifier,
      expectedState: started.state,
      expectedNonce: started.nonce,
      idTokenExpected: true,
    });
  }

  userinfo(accessToken: string, sub: string) {
    return oidc.fetchUserInfo(this.config, accessToken, sub);
  }
}
