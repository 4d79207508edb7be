// The client side of one gateway login, as a publisher's back end, a browser
// and a school IdP do it together: /authorize -> the school's login (signs an
// assertion) -> POST /school/assertion -> code -> POST /token.
import { strict as assert } from 'node:assert';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createLocalJWKSet, decodeJwt, jwtVerify, type CryptoKey, type JSONWebKeySet } from 'jose';
import { signEs256 } from './lib/sign.js';
import { Pool, type Dispatcher } from 'undici';
import type { SamlIdp } from '../demo/saml-idp.js';

export interface BenchWorld {
  url: string;
  clientId: string;
  redirectUri: string;
  clientKey: CryptoKey;
  clientKid: string;
  schoolId: string;
  schoolIssuer: string;
  schoolKey: CryptoKey;
  schoolKid: string;
  /** A second school, behind a SAML identity provider (bench/saml-client.ts). */
  saml?: { schoolId: string; idp: SamlIdp };
}

const TIMEOUT = { headersTimeout: 10_000, bodyTimeout: 10_000 };

async function call(pool: Dispatcher, opts: Dispatcher.RequestOptions, expected: number): Promise<Dispatcher.ResponseData> {
  const res = await pool.request({ ...opts, ...TIMEOUT });
  if (res.statusCode !== expected) {
    const body = (await res.body.text()).slice(0, 300);
    throw new Error(`${opts.method} ${opts.path}: ${res.statusCode} ${body}`);
  }
  return res;
}

const location = (res: Dispatcher.ResponseData): URL => new URL(String(res.headers.location));

/**
 * The login cookie /authorize set (docs/login-journey.md), as the browser
 * carries it back with the school's answer; none where the server set none
 * (the floor control binds no browser).
 */
function loginCookie(res: Dispatcher.ResponseData): Record<string, string> {
  const set = res.headers['set-cookie'];
  const cookie = (Array.isArray(set) ? set : [set]).find((c) => /^(__Host-)?pgw_login=/.test(String(c)));
  return cookie === undefined ? {} : { cookie: String(cookie).split(';')[0]! };
}

/** Who logs in: a pupil key (at the world's client), or a pupil at another registered client of the same keys. */
export type LoginPick = () => string | { pupil: string; clientId: string };

/** Pupil keys pupil-0 .. pupil-(n-1), in turn. */
export function cyclingPupils(n: number): LoginPick {
  let next = 0;
  return () => `pupil-${next++ % n}`;
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** The publisher's /authorize for `schoolId`: the school's login URL, the login cookie, and the PKCE verifier for the token request. */
export async function authorizeAt(pool: Dispatcher, world: BenchWorld, clientId: string, schoolId: string) {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const query = new URLSearchParams({
    client_id: clientId, redirect_uri: world.redirectUri, response_type: 'code', scope: 'openid',
    state: randomUUID(), nonce: randomUUID(), code_challenge: challenge, code_challenge_method: 'S256', school_hint: schoolId,
  });
  const authorize = await call(pool, { method: 'GET', path: `/authorize?${query.toString()}` }, 303);
  await authorize.body.dump();
  return { schoolLogin: location(authorize), cookie: loginCookie(authorize), verifier };
}

/** The browser posts the school's answer (a form) to `path`; the gateway's 303 carries the code. */
export async function postAnswer(pool: Dispatcher, path: string, cookie: Record<string, string>, fields: Record<string, string>): Promise<string> {
  const posted = await call(pool, { method: 'POST', path, headers: { ...FORM, ...cookie }, body: new URLSearchParams(fields).toString() }, 303);
  await posted.body.dump();
  return location(posted).searchParams.get('code')!;
}

/** The publisher's back end redeems the code with private_key_jwt. */
export async function redeemCode(pool: Dispatcher, world: BenchWorld, clientId: string, code: string, verifier: string): Promise<{ idToken: string }> {
  const now = Math.floor(Date.now() / 1000);
  const clientAssertion = signEs256(
    { kid: world.clientKid },
    { iss: clientId, sub: clientId, aud: world.url, jti: randomUUID(), iat: now, exp: now + 60 },
    world.clientKey,
  );
  const token = await call(pool, {
    method: 'POST', path: '/token', headers: FORM,
    body: new URLSearchParams({
      grant_type: 'authorization_code', code, redirect_uri: world.redirectUri, code_verifier: verifier,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: clientAssertion,
    }).toString(),
  }, 200);
  const body = (await token.body.json()) as { id_token: string };
  return { idToken: body.id_token };
}

export function makeGatewayLogin(world: BenchWorld, pick: LoginPick) {
  const pool = new Pool(world.url, { connections: 64, pipelining: 1 });

  async function login(): Promise<{ idToken: string }> {
    const picked = pick();
    const { pupil, clientId } = typeof picked === 'string' ? { pupil: picked, clientId: world.clientId } : picked;
    const { schoolLogin, cookie, verifier } = await authorizeAt(pool, world, clientId, world.schoolId);
    const { nonce } = decodeJwt(schoolLogin.searchParams.get('request')!) as { nonce: string };
    const now = Math.floor(Date.now() / 1000);
    const assertion = signEs256(
      { kid: world.schoolKid, typ: 'school-assertion+jwt' },
      { iss: world.schoolIssuer, aud: world.url, sub: pupil, jti: randomUUID(), iat: now, exp: now + 60,
        school: world.schoolId, role: 'student', nonce, groups: [{ key: '8a', name: 'Groep 8A', grade: 8 }] },
      world.schoolKey,
    );
    const code = await postAnswer(pool, '/school/assertion', cookie, { assertion });
    return redeemCode(pool, world, clientId, code, verifier);
  }

  return { login, close: () => pool.close() };
}

/** One login, checked in full: id_token signature, issuer, audience, pseudonym shape. */
export async function smokeGateway(world: BenchWorld, login: () => Promise<{ idToken: string }>): Promise<void> {
  const { idToken } = await login();
  const jwks = (await (await fetch(`${world.url}/jwks.json`)).json()) as JSONWebKeySet;
  const { payload } = await jwtVerify(idToken, createLocalJWKSet(jwks), { issuer: world.url, audience: world.clientId });
  assert.match(String(payload.sub), /^[a-z2-7]{32}$/);
  assert.equal(payload.school, '12AB');
}
