import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createLocalJWKSet, decodeJwt, jwtVerify, SignJWT, type JSONWebKeySet } from 'jose';
import type { TestKey } from './keys.js';
import type { PupilClaims, TestSchool } from './test-school.js';
import { loginCookieOf } from './browser.js';

// A login through a load balancer in front of several gateway processes that
// share Redis: every request goes to the backend the balancer picks at that
// moment, so one login may start on one instance and finish on another. The
// balancer does what real ones do: it only sends to instances in rotation and
// retries elsewhere a request that provably never reached one (connection
// refused, or Fastify's 503 while closing). Anything else is recorded.

export interface Balancer {
  /** The backend for the next request (a base URL). */
  pick(): string;
  /** A backend refused before handling a request: take it out of rotation. */
  refused(backend: string): void;
}

export interface LoginWorld {
  issuer: string;
  jwks: JSONWebKeySet;
  school: TestSchool;
  clientId: string;
  clientKey: TestKey;
  redirectUri: string;
}

export interface StepRecord {
  backend: string;
  step: string;
  /** The HTTP status, or the error code when no response came. */
  outcome: number | string;
}

const refusedBeforeHandling = (err: unknown): boolean => (err as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED';

/** The publisher's authorization request: PKCE verifier, nonce and the query for /authorize. */
export function authorizationRequest(world: LoginWorld) {
  const verifier = randomBytes(32).toString('base64url');
  const nonce = randomUUID();
  const query = new URLSearchParams({
    client_id: world.clientId, redirect_uri: world.redirectUri, response_type: 'code', scope: 'openid', state: randomUUID(), nonce,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256', school_hint: world.school.id,
  });
  return { verifier, nonce, path: `/authorize?${query.toString()}` };
}

/** The publisher's token request body, authenticated with private_key_jwt (aud = the issuer). */
export async function tokenRequestBody(world: LoginWorld, code: string, verifier: string): Promise<string> {
  const clientAssertion = await new SignJWT({ jti: randomUUID() })
    .setProtectedHeader({ alg: world.clientKey.alg, kid: world.clientKey.kid })
    .setIssuer(world.clientId).setSubject(world.clientId).setAudience(world.issuer).setIssuedAt().setExpirationTime('60s')
    .sign(world.clientKey.privateKey);
  return new URLSearchParams({
    grant_type: 'authorization_code', code, redirect_uri: world.redirectUri, code_verifier: verifier,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: clientAssertion,
  }).toString();
}

/** Verify an id_token as the publisher does; returns its sub. */
export async function verifiedSub(world: LoginWorld, idToken: string, nonce: string): Promise<string> {
  const { payload } = await jwtVerify(idToken, createLocalJWKSet(world.jwks), { issuer: world.issuer, audience: world.clientId });
  if (payload.nonce !== nonce) throw new Error('id_token nonce differs');
  return String(payload.sub);
}

export function balancedLogin(world: LoginWorld, balancer: Balancer, record: (r: StepRecord) => void) {
  async function send(step: string, pathAndQuery: string, init: RequestInit): Promise<Response> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const backend = balancer.pick();
      let res: Response;
      try {
        res = await fetch(`${backend}${pathAndQuery}`, { redirect: 'manual', ...init });
      } catch (err) {
        const code = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
        record({ backend, step, outcome: code });
        if (!refusedBeforeHandling(err)) throw err;
        balancer.refused(backend);
        continue;
      }
      record({ backend, step, outcome: res.status });
      // Fastify's own answer to a request that arrived after close began: nothing was done.
      if (res.status === 503 && res.headers.get('connection') === 'close' && !res.headers.get('retry-after')) {
        await res.body?.cancel();
        balancer.refused(backend);
        continue;
      }
      return res;
    }
    throw new Error(`${step}: no backend took the request`);
  }

  /** One login to the id_token, checked in full; throws on any unexpected answer. */
  return async function login(pupil: PupilClaims): Promise<string> {
    const path = (url: string) => { const u = new URL(url); return `${u.pathname}${u.search}`; };
    const { verifier, nonce, path: authorizePath } = authorizationRequest(world);
    const authorize = await send('authorize', authorizePath, {});
    if (authorize.status !== 303) throw new Error(`authorize: ${authorize.status} ${await authorize.text()}`);
    const request = new URL(authorize.headers.get('location')!).searchParams.get('request')!;
    const loginRequest = decodeJwt(request) as { nonce: string; return_to: string };

    const assertion = await world.school.assertion(pupil, { nonce: loginRequest.nonce, aud: world.issuer });
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    // Through the browser that started the login: its login cookie (src/login/pending.ts).
    const browser = { ...form, cookie: loginCookieOf(authorize) };
    const posted = await send('assertion', path(loginRequest.return_to), { method: 'POST', headers: browser, body: new URLSearchParams({ assertion }).toString() });
    if (posted.status !== 303) throw new Error(`assertion: ${posted.status} ${await posted.text()}`);
    const code = new URL(posted.headers.get('location')!).searchParams.get('code')!;

    const token = await send('token', '/token', { method: 'POST', headers: form, body: await tokenRequestBody(world, code, verifier) });
    if (token.status !== 200) throw new Error(`token: ${token.status} ${await token.text()}`);
    const { id_token: idToken } = (await token.json()) as { id_token: string };
    return verifiedSub(world, idToken, nonce);
  };
}
