// A publisher's relying party on openid-client (Node), logging pupils in
// through the gateway. A complete, minimal web app (node:http): /login sends
// the browser to the gateway (authorization code flow with PKCE S256, state
// and nonce), /callback redeems the code at /token, where openid-client
// validates the id_token (signature against the gateway's JWKS, iss, aud,
// exp, iat, nonce), and shows the claims it received (as JSON).
//
// Configuration (environment):
//   ISSUER            the gateway's issuer, e.g. http://localhost:3000
//   CLIENT_ID         your client_id
//   CLIENT_SECRET     the secret, for client_secret_basic; or
//   PRIVATE_KEY_FILE  a private JWK (JSON, with its kid) for private_key_jwt
//   PORT              where this app listens (default 8000); register the redirect URI http://localhost:PORT/callback
//
// Run: npx tsx examples/openid-client/app.ts

import type { JsonWebKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import * as oidc from 'openid-client';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};
const ISSUER = env('ISSUER');
const CLIENT_ID = env('CLIENT_ID');
const PORT = Number(process.env.PORT ?? 8000);
const REDIRECT_URI = `http://localhost:${PORT}/callback`;

/** The client authentication as registered: private_key_jwt with a key, else client_secret_basic. */
async function clientAuth(): Promise<oidc.ClientAuth> {
  if (process.env.PRIVATE_KEY_FILE) {
    const jwk = JSON.parse(readFileSync(process.env.PRIVATE_KEY_FILE, 'utf8')) as JsonWebKey & { kid: string };
    const key = await crypto.subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
    return oidc.PrivateKeyJwt({ key, kid: jwk.kid });
  }
  return oidc.ClientSecretBasic(env('CLIENT_SECRET'));
}

// Discovery: every endpoint and the signing keys come from the issuer. Plain
// http is allowed only for a gateway on this machine (the demo).
const insecure = new URL(ISSUER).protocol === 'http:' ? { execute: [oidc.allowInsecureRequests] } : {};
const config = await oidc.discovery(new URL(ISSUER), CLIENT_ID, {}, await clientAuth(), insecure);

/** Logins in progress, by state: the PKCE verifier and the nonce (one process; use your session store). */
const pending = new Map<string, { verifier: string; nonce: string }>();

const answer = (res: ServerResponse, status: number, body: unknown) =>
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', REDIRECT_URI);
  void (async () => {
    if (url.pathname === '/login') {
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      pending.set(state, { verifier, nonce });
      const to = oidc.buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT_URI, scope: 'openid', state, nonce,
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
      });
      res.writeHead(302, { location: to.href }).end();
    } else if (url.pathname === '/callback') {
      const state = url.searchParams.get('state') ?? '';
      const login = pending.get(state);
      pending.delete(state);
      if (!login) return answer(res, 400, { error: 'no login in progress for this state' });
      try {
        const tokens = await oidc.authorizationCodeGrant(config, url, {
          pkceCodeVerifier: login.verifier, expectedState: state, expectedNonce: login.nonce, idTokenExpected: true,
        });
        answer(res, 200, tokens.claims());
      } catch (err) {
        // An error from the gateway (the authorization response or /token): its code and description.
        const { error, error_description } = err as { error?: string; error_description?: string };
        answer(res, 400, { error: error ?? 'failed', error_description: error_description ?? (err as Error).message });
      }
    } else {
      answer(res, 404, { error: 'not found' });
    }
  })();
});
server.listen(PORT, '127.0.0.1', () => process.stdout.write(`listening on http://localhost:${PORT} (log in at /login)\n`));
