// The client side of one baseline login against oidc-provider-server.ts, the
// way a relying party's back end and a browser would do it together:
// authorize -> interaction -> resume -> code at the redirect URI -> token.
import { strict as assert } from 'node:assert';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { signEs256 } from '../lib/sign.js';
import type { CryptoKey, JSONWebKeySet } from 'jose';
import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import { ACCOUNT_ID, CLIENT_ID, REDIRECT_URI } from './constants.js';

// oidc-provider's default routes; smokeBaseline checks them against discovery.
const AUTHORIZATION_PATH = '/auth';
const TOKEN_PATH = '/token';
/** authorize -> interaction -> resume -> redirect URI is three hops. */
const MAX_REDIRECTS = 5;
/** Bounds every request, so that a stuck server cannot stall the benchmark. */
const REQUEST_TIMEOUT_MS = 10_000;
const BODY_PREVIEW_CHARS = 300;

/**
 * A per-login cookie jar. Paths and expiry dates are ignored except to delete
 * cookies: every request goes to one host, and oidc-provider's cookie names do
 * not clash across its paths.
 */
class CookieJar {
  readonly #cookies = new Map<string, string>();

  store(setCookie: string | string[] | undefined): void {
    for (const line of typeof setCookie === 'string' ? [setCookie] : (setCookie ?? [])) {
      const pair = line.split(';', 1)[0]!;
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === '' || /;\s*(?:expires=Thu, 01 Jan 1970|max-age=0)/i.test(line)) this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }

  headers(): Record<string, string> {
    if (this.#cookies.size === 0) return {};
    return { cookie: Array.from(this.#cookies, ([name, value]) => `${name}=${value}`).join('; ') };
  }
}

function newPool(url: string): Pool {
  return new Pool(url, { headersTimeout: REQUEST_TIMEOUT_MS, bodyTimeout: REQUEST_TIMEOUT_MS });
}

async function unexpected(what: string, res: Dispatcher.ResponseData): Promise<Error> {
  const body = await res.body.text();
  return new Error(`${what} answered ${res.statusCode}: ${body.slice(0, BODY_PREVIEW_CHARS)}`);
}

async function getJson(pool: Pool, path: string): Promise<Record<string, unknown>> {
  const res = await pool.request({ method: 'GET', path });
  if (res.statusCode !== 200) throw await unexpected(`GET ${path}`, res);
  return (await res.body.json()) as Record<string, unknown>;
}

const randomToken = (): string => randomBytes(32).toString('base64url');

/** One complete login; returns what the smoke test checks. */
async function login(pool: Pool, issuer: string, clientKey: CryptoKey): Promise<{ idToken: string; nonce: string }> {
  const state = randomToken();
  const nonce = randomToken();
  const codeVerifier = randomToken();
  const authorize = new URL(AUTHORIZATION_PATH, issuer);
  authorize.search = new URLSearchParams({
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    response_type: 'code',
    scope: 'openid',
    state,
    nonce,
    code_challenge: createHash('sha256').update(codeVerifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString();

  // Follow the redirects by hand, as a browser would, until one points at the
  // redirect URI; that one is not followed.
  const jar = new CookieJar();
  let next = authorize;
  for (let hops = 0; `${next.origin}${next.pathname}` !== REDIRECT_URI; hops++) {
    if (next.origin !== authorize.origin) throw new Error(`redirected off the provider, to ${next.href}`);
    if (hops === MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects, last to ${next.href}`);
    const path = `${next.pathname}${next.search}`;
    const res = await pool.request({ method: 'GET', path, headers: jar.headers() });
    const { location } = res.headers;
    if ((res.statusCode !== 302 && res.statusCode !== 303) || typeof location !== 'string') {
      throw await unexpected(`GET ${path}`, res);
    }
    await res.body.dump();
    jar.store(res.headers['set-cookie']);
    next = new URL(location, next);
  }

  const callback = next.searchParams;
  const error = callback.get('error');
  if (error !== null) throw new Error(`authorization failed: ${error}: ${callback.get('error_description')}`);
  const code = callback.get('code');
  if (code === null) throw new Error(`no code in ${next.href}`);
  if (callback.get('state') !== state) throw new Error('state mismatch in the authorization response');

  const now = Math.floor(Date.now() / 1000);
  const clientAssertion = signEs256({}, { iss: CLIENT_ID, sub: CLIENT_ID, aud: issuer, jti: randomUUID(), iat: now, exp: now + 60 }, clientKey);
  const res = await pool.request({
    method: 'POST',
    path: TOKEN_PATH,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: codeVerifier,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: clientAssertion,
    }).toString(),
  });
  if (res.statusCode !== 200) throw await unexpected(`POST ${TOKEN_PATH}`, res);
  const tokens = (await res.body.json()) as { id_token?: unknown };
  if (typeof tokens.id_token !== 'string') throw new Error(`no id_token in the token response: ${JSON.stringify(tokens)}`);
  return { idToken: tokens.id_token, nonce };
}

/**
 * The benchmark's unit of work. `url` is the provider's issuer; the returned
 * function shares one keep-alive connection pool across calls.
 */
export function makeBaselineLogin(url: string, clientKey: CryptoKey): () => Promise<void> {
  const pool = newPool(url);
  return async () => {
    await login(pool, url, clientKey);
  };
}

/**
 * One login whose result is checked in full (discovery, id_token signature and
 * claims), which the hot loop cannot afford; run before measuring.
 */
export async function smokeBaseline(url: string, clientKey: CryptoKey): Promise<void> {
  const pool = newPool(url);
  try {
    const discovery = await getJson(pool, '/.well-known/openid-configuration');
    assert.equal(discovery.issuer, url, 'discovery issuer');
    assert.equal(discovery.authorization_endpoint, `${url}${AUTHORIZATION_PATH}`, 'authorization endpoint');
    assert.equal(discovery.token_endpoint, `${url}${TOKEN_PATH}`, 'token endpoint');
    assert.equal(typeof discovery.jwks_uri, 'string', 'jwks_uri');
    const jwks = (await getJson(pool, new URL(discovery.jwks_uri as string).pathname)) as unknown as JSONWebKeySet;

    const { idToken, nonce } = await login(pool, url, clientKey);
    const { payload } = await jwtVerify(idToken, createLocalJWKSet(jwks), {
      issuer: url,
      audience: CLIENT_ID,
      algorithms: ['ES256'],
    });
    assert.equal(payload.sub, ACCOUNT_ID, 'id_token sub');
    assert.equal(payload.nonce, nonce, 'id_token nonce');
  } finally {
    await pool.close();
  }
}
