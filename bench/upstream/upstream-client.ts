// The client side of one upstream-OpenID login, as a publisher's back end and
// a browser do it together: gateway /authorize -> the upstream's /auth ->
// its login (the interaction, answered at once) -> back to the gateway's
// /school/oidc/callback (the gateway exchanges the code at the upstream and
// validates the id_token) -> code -> gateway /token.
import { strict as assert } from 'node:assert';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { Pool, type Dispatcher } from 'undici';
import type { BenchWorld } from '../gateway-client.js';
import { signEs256 } from '../lib/sign.js';

const TIMEOUT = { headersTimeout: 10_000, bodyTimeout: 10_000 };

async function call(pool: Dispatcher, opts: Dispatcher.RequestOptions, expected: number): Promise<Dispatcher.ResponseData> {
  const res = await pool.request({ ...opts, ...TIMEOUT });
  if (res.statusCode !== expected) {
    const body = (await res.body.text()).slice(0, 300);
    throw new Error(`${opts.method} ${String(opts.origin ?? '')}${opts.path.split('?')[0]}: ${res.statusCode} ${body}`);
  }
  await res.body.dump();
  return res;
}

const cookiesOf = (res: Dispatcher.ResponseData): string[] => {
  const set = res.headers['set-cookie'];
  return (Array.isArray(set) ? set : set === undefined ? [] : [set]).map((c) => String(c).split(';')[0]!);
};

/** What a browser keeps: every cookie by name (the gateway's and the provider's names differ). */
class Jar {
  private readonly cookies = new Map<string, string>();
  keep(res: Dispatcher.ResponseData): Dispatcher.ResponseData {
    for (const pair of cookiesOf(res)) this.cookies.set(pair.slice(0, pair.indexOf('=')), pair);
    return res;
  }
  get header(): Record<string, string> {
    return this.cookies.size ? { cookie: [...this.cookies.values()].join('; ') } : {};
  }
}

const location = (res: Dispatcher.ResponseData, base: string): URL => new URL(String(res.headers.location), base);
const pathOf = (url: URL) => `${url.pathname}${url.search}`;

/** Logins at the world's upstream school, its pupils' upstream accounts in turn. */
export function makeUpstreamLogin(world: BenchWorld & { upstreamIssuer: string; upstreamSchoolId: string }, accounts: number) {
  const gateway = new Pool(world.url, { connections: 64, pipelining: 1 });
  const upstream = new Pool(world.upstreamIssuer, { connections: 64, pipelining: 1 });
  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  let next = 0;

  async function login(): Promise<{ idToken: string }> {
    const account = `upstream-${next++ % accounts}`;
    const jar = new Jar();
    const verifier = randomBytes(32).toString('base64url');
    const query = new URLSearchParams({
      client_id: world.clientId, redirect_uri: world.redirectUri, response_type: 'code', scope: 'openid', state: randomUUID(), nonce: randomUUID(),
      code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256', school_hint: world.upstreamSchoolId,
    });
    const authorize = jar.keep(await call(gateway, { method: 'GET', path: `/authorize?${query.toString()}` }, 303));
    const auth = location(authorize, world.url);
    const toLogin = jar.keep(await call(upstream, { method: 'GET', path: pathOf(auth), headers: jar.header }, 303));
    const interaction = location(toLogin, world.upstreamIssuer);
    const done = jar.keep(await call(upstream, {
      method: 'POST', path: `${interaction.pathname}/login`, headers: { ...form, ...jar.header }, body: new URLSearchParams({ account }).toString(),
    }, 303));
    const resumed = jar.keep(await call(upstream, { method: 'GET', path: pathOf(location(done, world.upstreamIssuer)), headers: jar.header }, 303));
    const callback = location(resumed, world.upstreamIssuer);
    const answered = await call(gateway, { method: 'GET', path: pathOf(callback), headers: jar.header }, 303);
    const code = location(answered, world.url).searchParams.get('code')!;

    const now = Math.floor(Date.now() / 1000);
    const clientAssertion = signEs256(
      { kid: world.clientKid },
      { iss: world.clientId, sub: world.clientId, aud: world.url, jti: randomUUID(), iat: now, exp: now + 60 },
      world.clientKey,
    );
    const token = await gateway.request({
      method: 'POST', path: '/token', headers: form, ...TIMEOUT,
      body: new URLSearchParams({
        grant_type: 'authorization_code', code, redirect_uri: world.redirectUri, code_verifier: verifier,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: clientAssertion,
      }).toString(),
    });
    if (token.statusCode !== 200) throw new Error(`POST /token: ${token.statusCode} ${(await token.body.text()).slice(0, 300)}`);
    return { idToken: ((await token.body.json()) as { id_token: string }).id_token };
  }

  async function smoke(): Promise<void> {
    const { idToken } = await login();
    const jwks = (await (await fetch(`${world.url}/jwks.json`)).json()) as JSONWebKeySet;
    const { payload } = await jwtVerify(idToken, createLocalJWKSet(jwks), { issuer: world.url, audience: world.clientId });
    assert.match(String(payload.sub), /^[a-z2-7]{32}$/);
    assert.equal(payload.school, world.upstreamSchoolId);
  }

  return { login: () => login().then(() => undefined), smoke, close: async () => { await gateway.close(); await upstream.close(); } };
}
