import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fullLogin } from '../helpers/browser.js';
import { TestClock } from '../helpers/clock.js';
import { LEES_CB, makeWorld, PUPIL, REKEN_CB, TAAL_CB, type World } from '../helpers/fixture.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { TestPublisher } from '../helpers/publisher.js';
import { call, issueCode, type HttpResult } from '../helpers/token-userinfo-requests.js';

// GET and POST /userinfo through the front door (OIDC Core section 5.3,
// RFC 6750 sections 2.1 and 3; docs/openid-connect.md: the same released claims).

let world: World;
let clock: TestClock;
let gateway: TestGateway;
let reken: TestPublisher;
let lees: TestPublisher;
let taal: TestPublisher;
let userinfoUrl: string;

beforeAll(async () => {
  world = await makeWorld();
  clock = new TestClock();
  gateway = await startGateway({ seed: world.seed, clock });
  const discovery = await call(`${gateway.url}/.well-known/openid-configuration`);
  userinfoUrl = discovery.json!.userinfo_endpoint as string;
  reken = await TestPublisher.create(gateway.url, 'rekenapp', REKEN_CB, { key: world.rekenKey });
  lees = await TestPublisher.create(gateway.url, 'leesapp', LEES_CB, { key: world.leesKey });
  taal = await TestPublisher.create(gateway.url, 'taalapp', TAAL_CB, { secret: world.taalSecret });
});
afterAll(async () => {
  await gateway?.close();
});

/** A complete login by a certified RP: its access token, id_token claims and raw id_token. */
async function login(publisher: TestPublisher = reken) {
  const { tokens, claims } = await fullLogin(gateway, world.regenboog, publisher, PUPIL);
  return { accessToken: tokens.access_token, idToken: tokens.id_token!, sub: claims.sub };
}

const getUserinfo = (authorization?: string, url = userinfoUrl) => call(url, { headers: authorization === undefined ? {} : { authorization } });
const postUserinfo = (authorization?: string, body?: string) =>
  call(userinfoUrl, {
    method: 'POST',
    headers: {
      ...(authorization === undefined ? {} : { authorization }),
      ...(body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
    },
    ...(body === undefined ? {} : { body }),
  });

/** RFC 6750 section 3: a Bearer challenge; error_description limited to %x20-21 / %x23-5B / %x5D-7E. */
const CHALLENGE_INVALID_TOKEN = /^Bearer (realm="[^"]*", )?error="invalid_token"(, error_description="[\x20\x21\x23-\x5B\x5D-\x7E]*")?$/;

function expectRefused(res: HttpResult, status: number, error: string): void {
  expect({ status: res.status, error: res.json?.error }).toEqual({ status, error });
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(res.headers.get('content-type')).toMatch(/^application\/json(;|$)/);
  expect(res.json).not.toHaveProperty('sub');
}

describe('userinfo with a valid access token', () => {
  it.each([
    ['rekenapp', () => reken, ['school', 'grade', 'groups', 'group_names']],
    ['leesapp', () => lees, ['grade']],
    ['taalapp', () => taal, ['school', 'role', 'given_name']],
  ] as const)('GET for %s -> 200 with exactly sub and the released claims, no-store', async (_client, publisher, released) => {
    const { accessToken, sub } = await login(publisher());
    const res = await getUserinfo(`Bearer ${accessToken}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('content-type')).toMatch(/^application\/json(;|$)/);
    expect(Object.keys(res.json!).sort()).toEqual(['sub', ...released].sort());
    expect(res.json!.sub).toBe(sub);
    expect(res.text).not.toContain(PUPIL.sub);
  });

  it('rekenapp gets the licensed values: school, grade, pseudonymous groups and their names', async () => {
    const { accessToken, sub } = await login(reken);
    const res = await getUserinfo(`Bearer ${accessToken}`);
    expect(res.json).toEqual({ sub, school: '12AB', grade: 8, groups: [expect.stringMatching(/^[a-z2-7]{32}$/)], group_names: ['Groep 8A'] });
  });

  it('POST with the Authorization header -> 200 and the same body as GET', async () => {
    const { accessToken } = await login(reken);
    const viaGet = await getUserinfo(`Bearer ${accessToken}`);
    const viaPost = await postUserinfo(`Bearer ${accessToken}`);
    expect(viaPost.status).toBe(200);
    expect(viaPost.headers.get('cache-control')).toBe('no-store');
    expect(viaPost.json).toEqual(viaGet.json);
  });

  it('POST with the header and an empty form body -> 200', async () => {
    const { accessToken, sub } = await login(reken);
    const res = await postUserinfo(`Bearer ${accessToken}`, '');
    expect(res.status).toBe(200);
    expect(res.json!.sub).toBe(sub);
  });

  it('the scheme name is case-insensitive (RFC 9110 section 11.1): "bearer" -> 200', async () => {
    const { accessToken } = await login(reken);
    expect((await getUserinfo(`bearer ${accessToken}`)).status).toBe(200);
  });

  it('a token is still good after 299 s', async () => {
    const { accessToken } = await login(reken);
    clock.advance(299_000);
    try {
      expect((await getUserinfo(`Bearer ${accessToken}`)).status).toBe(200);
    } finally {
      clock.advance(-299_000);
    }
  });
});

describe('userinfo refusals', () => {
  it.each(['GET', 'POST'])('%s without an Authorization header -> 401 with a Bearer challenge', async (method) => {
    const res = method === 'GET' ? await getUserinfo() : await postUserinfo();
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.json).not.toHaveProperty('sub');
  });

  it('an access token in the query string is not read (RFC 6750 section 2.3 not offered) -> 401', async () => {
    const { accessToken } = await login(reken);
    const res = await getUserinfo(undefined, `${userinfoUrl}?access_token=${encodeURIComponent(accessToken)}`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
    expect(res.json).not.toHaveProperty('sub');
  });

  it('an access token in a form body is not read (RFC 6750 section 2.2 not offered) -> 401', async () => {
    const { accessToken } = await login(reken);
    const res = await postUserinfo(undefined, new URLSearchParams({ access_token: accessToken }).toString());
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
    expect(res.json).not.toHaveProperty('sub');
  });

  const malformed = ['Bearer', 'Bearer a b', 'Bearer  two-spaces', 'Bearer tok!en', 'Bearer tok"en', 'Bearer =abc', 'Bearer abc,def'];
  it.each(malformed)('a malformed Bearer header %j -> 400 invalid_request', async (authorization) => {
    expectRefused(await getUserinfo(authorization), 400, 'invalid_request');
  });

  it('a 400 for a malformed Bearer header names the error in a Bearer challenge (RFC 6750 section 3, OIDC Core 5.3.3)', async () => {
    const answers = await Promise.all(malformed.map(async (authorization) => {
      const res = await getUserinfo(authorization);
      return { authorization, status: res.status, challenge: res.headers.get('www-authenticate') };
    }));
    expect(answers).toEqual(malformed.map((authorization) => ({
      authorization,
      status: 400,
      challenge: expect.stringMatching(/^Bearer (realm="[^"]*", )?error="invalid_request"/) as string,
    })));
  });

  it.each([`Basic ${Buffer.from('rekenapp:secret').toString('base64')}`, 'DPoP some-token', 'Bearertoken'])(
    'another scheme %j counts as no credentials (RFC 6750 section 3.1) -> 401 with a Bearer challenge',
    async (authorization) => {
      const res = await getUserinfo(authorization);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
    },
  );

  const unknownTokens: [string, () => Promise<string> | string][] = [
    ['an unknown token', () => randomBytes(32).toString('base64url')],
    ['a 300-character token', () => 'A'.repeat(300)],
    ['the id_token', async () => (await login(reken)).idToken],
    ['an authorization code', async () => (await issueCode(gateway, world.regenboog, reken, PUPIL, clock.now())).code],
    ['a valid token with one character changed', async () => {
      const { accessToken } = await login(reken);
      return `${accessToken.slice(0, -1)}${accessToken.endsWith('A') ? 'B' : 'A'}`;
    }],
  ];
  it.each(unknownTokens)('%s -> 401 invalid_token with error="invalid_token" in the challenge', async (_name, make) => {
    const token = await make();
    for (const res of [await getUserinfo(`Bearer ${token}`), await postUserinfo(`Bearer ${token}`)]) {
      expectRefused(res, 401, 'invalid_token');
      expect(res.headers.get('www-authenticate')).toMatch(CHALLENGE_INVALID_TOKEN);
    }
  });

  it('an expired token (301 s) -> 401 invalid_token', async () => {
    const { accessToken } = await login(reken);
    clock.advance(301_000);
    try {
      const res = await getUserinfo(`Bearer ${accessToken}`);
      expectRefused(res, 401, 'invalid_token');
      expect(res.headers.get('www-authenticate')).toMatch(CHALLENGE_INVALID_TOKEN);
    } finally {
      clock.advance(-301_000);
    }
  });
});
