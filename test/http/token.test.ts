import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stepByParts, type Kv, type SingleUseStep } from '../../src/store/kv.js';
import { MemoryKv } from '../../src/store/memory-kv.js';
import { LEES_CB, makeWorld, PUPIL, REKEN_CB, TAAL_CB, type World } from '../helpers/fixture.js';
import { TestClock } from '../helpers/clock.js';
import { startGateway, stateKeys, type TestGateway } from '../helpers/gateway.js';
import { testKey, type TestKey } from '../helpers/keys.js';
import { TestPublisher } from '../helpers/publisher.js';
import {
  basicAuth,
  call,
  clientAssertion,
  codeForm,
  expectTokenError,
  expectTokens,
  formEncode,
  issueCode,
  JWT_BEARER,
  postToken,
  unsecuredJwt,
  type AssertionOptions,
  type HttpResult,
  type IssuedCode,
} from '../helpers/token-userinfo-requests.js';

// Negative tests of POST /token through the front door (docs/openid-connect.md:
// client authentication, code redemption, replay and its revocation).

/** A fourth client whose secret has characters that RFC 6749 section 2.3.1 form-encoding changes. */
const SPELL_SECRET = 'spell secret: a+b %25 c/d & e=f ü 0123456789';
const SPELL_CB = 'https://spellapp.example/cb';
/** What `openssl rand -base64 33` gives: a secret with +, / and =. */
const BASE64_SECRET = `a+b/c=${randomBytes(33).toString('base64')}`;
const BASE64_CB = 'https://base64app.example/cb';

let world: World;
let clock: TestClock;
let gateway: TestGateway;
let reken: TestPublisher;
let lees: TestPublisher;
let taal: TestPublisher;
let spell: TestPublisher;
let base64: TestPublisher;
let issuer: string;
let tokenUrl: string;
let userinfoUrl: string;
let attackerEs256: TestKey;
let attackerRs256: TestKey;

const kvKeys = () => stateKeys(gateway.kv);
const accessTokenKeys = () => kvKeys().filter((k) => k.startsWith('at:'));

/** Move the gateway's clock for the length of `body`, then put it back. */
async function withClockAdvanced<T>(ms: number, body: () => Promise<T>): Promise<T> {
  clock.advance(ms);
  try {
    return await body();
  } finally {
    clock.advance(-ms);
  }
}

const codeOf = (publisher: TestPublisher) => issueCode(gateway, world.regenboog, publisher, PUPIL, clock.now());

/** private_key_jwt form fields for `clientId`, signed with `key`. */
async function jwtAuth(key: TestKey, clientId: string, opts: AssertionOptions = {}): Promise<Record<string, string>> {
  const assertion = await clientAssertion(key, clientId, { aud: issuer, now: clock.now(), ...opts });
  return { client_assertion_type: JWT_BEARER, client_assertion: assertion };
}
const rekenAuth = (opts: AssertionOptions = {}) => jwtAuth(world.rekenKey, 'rekenapp', opts);
const leesAuth = (opts: AssertionOptions = {}) => jwtAuth(world.leesKey, 'leesapp', opts);

/** A correct redemption of `issued` by its own client. */
async function redeem(issued: IssuedCode): Promise<HttpResult> {
  switch (issued.clientId) {
    case 'rekenapp':
      return postToken(tokenUrl, { ...codeForm(issued), ...(await rekenAuth()) });
    case 'leesapp':
      return postToken(tokenUrl, { ...codeForm(issued), ...(await leesAuth()) });
    case 'taalapp':
      return postToken(tokenUrl, codeForm(issued), { authorization: basicAuth('taalapp', world.taalSecret) });
    default:
      return postToken(tokenUrl, codeForm(issued), { authorization: basicAuth('spellapp', SPELL_SECRET) });
  }
}

const userinfo = (accessToken: string) => call(userinfoUrl, { headers: { authorization: `Bearer ${accessToken}` } });

beforeAll(async () => {
  world = await makeWorld();
  clock = new TestClock();
  attackerEs256 = await testKey('ES256', world.rekenKey.kid);
  attackerRs256 = await testKey('RS256', world.rekenKey.kid);
  const seed = {
    ...world.seed,
    clients: [
      ...world.seed.clients,
      { clientId: 'spellapp', supplier: 'uitgever-b', name: 'Spellapp', redirectUris: [SPELL_CB], clientSecret: SPELL_SECRET, claims: ['school'] },
      { clientId: 'base64app', supplier: 'uitgever-b', name: 'Base64app', redirectUris: [BASE64_CB], clientSecret: BASE64_SECRET, claims: ['school'] },
    ],
    licences: [...world.seed.licences, { school: '12AB', client: 'spellapp', claims: ['school'] }, { school: '12AB', client: 'base64app', claims: ['school'] }],
  };
  gateway = await startGateway({ seed, clock });
  const discovery = await call(`${gateway.url}/.well-known/openid-configuration`);
  issuer = discovery.json!.issuer as string;
  tokenUrl = discovery.json!.token_endpoint as string;
  userinfoUrl = discovery.json!.userinfo_endpoint as string;
  reken = await TestPublisher.create(gateway.url, 'rekenapp', REKEN_CB, { key: world.rekenKey });
  lees = await TestPublisher.create(gateway.url, 'leesapp', LEES_CB, { key: world.leesKey });
  taal = await TestPublisher.create(gateway.url, 'taalapp', TAAL_CB, { secret: world.taalSecret });
  spell = await TestPublisher.create(gateway.url, 'spellapp', SPELL_CB, { secret: SPELL_SECRET });
  base64 = await TestPublisher.create(gateway.url, 'base64app', BASE64_CB, { secret: BASE64_SECRET });
});
afterAll(async () => {
  await gateway?.close();
});

describe('client authentication that succeeds', () => {
  type Ok = { name: string; publisher: () => TestPublisher; request: (c: IssuedCode) => Promise<{ form: Record<string, string>; headers?: Record<string, string> }> };
  const cases: Ok[] = [
    { name: 'private_key_jwt ES256 (rekenapp), aud = issuer', publisher: () => reken, request: async (c) => ({ form: { ...codeForm(c), ...(await rekenAuth()) } }) },
    { name: 'private_key_jwt EdDSA (leesapp)', publisher: () => lees, request: async (c) => ({ form: { ...codeForm(c), ...(await leesAuth()) } }) },
    {
      name: 'aud = the token endpoint URL (docs/openid-connect.md: issuer or token endpoint)',
      publisher: () => reken,
      request: async (c) => ({ form: { ...codeForm(c), ...(await rekenAuth({ aud: tokenUrl })) } }),
    },
    {
      name: 'nbf 8 s in the future (within the 30 s skew)',
      publisher: () => reken,
      request: async (c) => ({ form: { ...codeForm(c), ...(await rekenAuth({ claims: { nbf: Math.floor(clock.now() / 1000) + 8 } })) } }),
    },
    {
      name: 'iat 8 s in the future',
      publisher: () => reken,
      request: async (c) => {
        const iat = Math.floor(clock.now() / 1000) + 8;
        return { form: { ...codeForm(c), ...(await rekenAuth({ claims: { iat, exp: iat + 60 } })) } };
      },
    },
    {
      name: 'lifetime of exactly 300 s',
      publisher: () => reken,
      request: async (c) => {
        const iat = Math.floor(clock.now() / 1000);
        return { form: { ...codeForm(c), ...(await rekenAuth({ claims: { iat, exp: iat + 300 } })) } };
      },
    },
    {
      name: 'lifetime of 3600 s (what Authlib signs by default)',
      publisher: () => reken,
      request: async (c) => {
        const iat = Math.floor(clock.now() / 1000);
        return { form: { ...codeForm(c), ...(await rekenAuth({ claims: { iat, exp: iat + 3600 } })) } };
      },
    },
    {
      name: 'no iat and exp 10 min ahead',
      publisher: () => reken,
      request: async (c) => ({ form: { ...codeForm(c), ...(await rekenAuth({ claims: { iat: undefined, exp: Math.floor(clock.now() / 1000) + 600 } })) } }),
    },
    {
      name: 'a client_id parameter naming the authenticated client',
      publisher: () => reken,
      request: async (c) => ({ form: { ...codeForm(c), client_id: 'rekenapp', ...(await rekenAuth()) } }),
    },
    { name: 'client_secret_basic (taalapp)', publisher: () => taal, request: async (c) => ({ form: codeForm(c), headers: { authorization: basicAuth('taalapp', world.taalSecret) } }) },
    {
      name: 'client_secret_basic with a lower-case scheme name (RFC 9110 section 11.1)',
      publisher: () => taal,
      request: async (c) => ({ form: codeForm(c), headers: { authorization: basicAuth('taalapp', world.taalSecret).replace('Basic', 'basic') } }),
    },
    {
      name: 'client_secret_basic with a secret that form-encoding changes (RFC 6749 section 2.3.1)',
      publisher: () => spell,
      request: async (c) => ({ form: codeForm(c), headers: { authorization: basicAuth('spellapp', SPELL_SECRET) } }),
    },
    {
      // Authlib, requests' HTTPBasicAuth and many others send the credentials as they are.
      name: 'client_secret_basic with that secret not form-encoded',
      publisher: () => spell,
      request: async (c) => ({ form: codeForm(c), headers: { authorization: `Basic ${Buffer.from(`spellapp:${SPELL_SECRET}`, 'utf8').toString('base64')}` } }),
    },
    {
      name: 'client_secret_basic with a base64 secret (+, /, =) sent raw, as Authlib sends it',
      publisher: () => base64,
      request: async (c) => ({ form: codeForm(c), headers: { authorization: `Basic ${Buffer.from(`base64app:${BASE64_SECRET}`, 'utf8').toString('base64')}` } }),
    },
    {
      name: 'client_secret_basic with that base64 secret form-encoded',
      publisher: () => base64,
      request: async (c) => ({ form: codeForm(c), headers: { authorization: basicAuth('base64app', BASE64_SECRET) } }),
    },
  ];

  it.each(cases)('$name -> 200 with tokens', async ({ publisher, request }) => {
    const issued = await codeOf(publisher());
    const { form, headers } = await request(issued);
    const { accessToken } = expectTokens(await postToken(tokenUrl, form, headers));
    expect((await userinfo(accessToken)).status).toBe(200);
  });
});

describe('client authentication that fails (cases 31-33): refused before the code is touched', () => {
  const now = () => Math.floor(clock.now() / 1000);
  type Bad = {
    name: string;
    request: (c: IssuedCode) => Promise<{ form: Record<string, string>; headers?: Record<string, string> }>;
    status: number;
    error: string;
    /** The WWW-Authenticate challenge a 401 must carry (RFC 6749 section 5.2, RFC 9110 section 15.5.2). */
    challenge?: RegExp;
  };
  const basic = (authorization: () => string) => async (c: IssuedCode) => ({ form: codeForm(c), headers: { authorization: authorization() } });
  const reken401 = (name: string, opts: () => AssertionOptions | Promise<AssertionOptions>): Bad => ({
    name,
    request: async (c) => ({ form: { ...codeForm(c), ...(await rekenAuth(await opts())) } }),
    status: 401,
    error: 'invalid_client',
    challenge: /^\w+/,
  });
  const withAssertion = (name: string, assertion: () => Promise<string> | string, extra: Record<string, string> = {}): Bad => ({
    name,
    request: async (c) => ({ form: { ...codeForm(c), client_assertion_type: JWT_BEARER, client_assertion: await assertion(), ...extra } }),
    status: 401,
    error: 'invalid_client',
    challenge: /^\w+/,
  });

  const cases: Bad[] = [
    { name: 'no client authentication at all', request: async (c) => ({ form: codeForm(c) }), status: 401, error: 'invalid_client', challenge: /^\w+/ },
    {
      name: 'only a client_id parameter, no credentials',
      request: async (c) => ({ form: { ...codeForm(c), client_id: 'rekenapp' } }),
      status: 401,
      error: 'invalid_client',
      challenge: /^\w+/,
    },
    {
      name: 'Basic and client_assertion together',
      request: async (c) => ({ form: { ...codeForm(c), ...(await rekenAuth()) }, headers: { authorization: basicAuth('taalapp', world.taalSecret) } }),
      status: 400,
      error: 'invalid_request',
    },
    { name: 'Basic with a wrong secret', request: basic(() => basicAuth('taalapp', `${'x'}${world.taalSecret}`)), status: 401, error: 'invalid_client', challenge: /^Basic / },
    { name: 'Basic with an empty secret', request: basic(() => basicAuth('taalapp', '')), status: 401, error: 'invalid_client', challenge: /^Basic / },
    { name: 'Basic for an unknown client', request: basic(() => basicAuth('nosuchapp', world.taalSecret)), status: 401, error: 'invalid_client', challenge: /^Basic / },
    {
      name: 'Basic with the form-encoded secret sent form-encoded twice',
      request: basic(() => basicAuth('spellapp', formEncode(SPELL_SECRET))),
      status: 401,
      error: 'invalid_client',
      challenge: /^Basic /,
    },
    {
      name: 'Basic for a client registered for private_key_jwt',
      request: basic(() => basicAuth('rekenapp', 'a-guessed-secret-0123456789-abcdefgh')),
      status: 401,
      error: 'invalid_client',
      challenge: /^Basic /,
    },
    { name: 'Basic credentials that are not base64', request: basic(() => 'Basic %%%not-base64%%%'), status: 401, error: 'invalid_client', challenge: /^Basic / },
    {
      name: 'Basic credentials without a colon',
      request: basic(() => `Basic ${Buffer.from('taalapp').toString('base64')}`),
      status: 401,
      error: 'invalid_client',
      challenge: /^Basic /,
    },
    {
      name: 'Basic with a client_id parameter naming another client',
      request: async (c) => ({ form: { ...codeForm(c), client_id: 'rekenapp' }, headers: { authorization: basicAuth('taalapp', world.taalSecret) } }),
      status: 401,
      error: 'invalid_client',
      challenge: /^Basic /,
    },
    { name: 'a Bearer token instead of client credentials', request: basic(() => 'Bearer some-access-token'), status: 401, error: 'invalid_client', challenge: /^\w+/ },
    {
      name: 'client_assertion without client_assertion_type',
      request: async (c) => {
        const { client_assertion } = await rekenAuth();
        return { form: { ...codeForm(c), client_assertion: client_assertion! } };
      },
      status: 400,
      error: 'invalid_request',
    },
    {
      name: 'client_assertion_type saml2-bearer',
      request: async (c) => ({
        form: { ...codeForm(c), ...(await rekenAuth()), client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer' },
      }),
      status: 400,
      error: 'invalid_request',
    },
    withAssertion('a client_assertion that is not a JWT', () => 'not-a-jwt'),
    reken401('aud another issuer', () => ({ aud: 'https://other-gateway.example' })),
    reken401('aud the issuer with a trailing slash', () => ({ aud: `${issuer}/` })),
    reken401('aud the authorization endpoint', () => ({ aud: `${issuer}/authorize` })),
    reken401('aud an array holding only the issuer', () => ({ aud: [issuer] })),
    reken401('aud an array containing the issuer', () => ({ aud: [issuer, 'https://other.example'] })),
    reken401('aud an array holding the token endpoint', () => ({ aud: [tokenUrl] })),
    reken401('aud missing', () => ({ aud: undefined })),
    reken401('iss missing', () => ({ claims: { iss: undefined } })),
    reken401('iss an unknown client (signed with rekenapp key)', () => ({ claims: { iss: 'nosuchapp', sub: 'nosuchapp' } })),
    reken401('sub missing', () => ({ claims: { sub: undefined } })),
    reken401('sub not equal to iss', () => ({ claims: { sub: 'leesapp' } })),
    reken401('exp missing', () => ({ claims: { exp: undefined } })),
    reken401('exp 5 min in the past', () => ({ claims: { iat: now() - 360, exp: now() - 300 } })),
    reken401('exp as a string', () => ({ claims: { exp: String(now() + 60) } })),
    // Whole seconds only, as for school assertions (verify-assertion.ts, reliability.md case 24); never a 500.
    reken401('exp with a fraction of a second (60.5 s)', () => ({ claims: { exp: now() + 60.5 } })),
    reken401('exp with a fraction that is no whole millisecond', () => ({ claims: { exp: now() + 60.1234 } })),
    reken401('exp in milliseconds', () => ({ claims: { exp: clock.now() + 60_000 } })),
    reken401('lifetime of 3601 s', () => ({ claims: { iat: now(), exp: now() + 3601 } })),
    reken401('no iat and exp 61 min ahead', () => ({ claims: { iat: undefined, exp: now() + 3660 } })),
    reken401('nbf 61 s in the future', () => ({ claims: { nbf: now() + 61 } })),
    reken401('iat 61 s in the future', () => ({ claims: { iat: now() + 61, exp: now() + 121 } })),
    reken401('jti missing', () => ({ claims: { jti: undefined } })),
    reken401('signed with the key of another client (leesapp)', () => ({ signWith: world.leesKey.privateKey, header: { alg: 'EdDSA', kid: world.leesKey.kid } })),
    reken401('ES256 from an unregistered key carrying the registered kid', () => ({ signWith: attackerEs256.privateKey })),
    reken401('RS256 from an unregistered key', () => ({ signWith: attackerRs256.privateKey, header: { alg: 'RS256', kid: attackerRs256.kid } })),
    reken401('HS256 keyed with the public JWK (algorithm confusion)', () => ({
      signWith: new TextEncoder().encode(JSON.stringify(world.rekenKey.publicJwk)),
      header: { alg: 'HS256' },
    })),
    reken401('an embedded jwk header naming the attacker key (CVE-2018-0114)', async () => ({
      signWith: attackerEs256.privateKey,
      header: { kid: undefined, jwk: { ...attackerEs256.publicJwk, kid: undefined, alg: undefined, use: undefined } },
    })),
    withAssertion('alg none', () => unsecuredJwt({ alg: 'none' }, { iss: 'rekenapp', sub: 'rekenapp', aud: issuer, jti: 'x', iat: now(), exp: now() + 60 })),
    withAssertion('a payload changed after signing', async () => {
      const [h, , s] = (await clientAssertion(world.rekenKey, 'rekenapp', { aud: issuer, now: clock.now() })).split('.');
      const payload = Buffer.from(JSON.stringify({ iss: 'rekenapp', sub: 'rekenapp', aud: issuer, jti: 'tampered', iat: now(), exp: now() + 299 })).toString('base64url');
      return `${h}.${payload}.${s}`;
    }),
    withAssertion('a client_id parameter naming another client (case 33)', async () => (await rekenAuth()).client_assertion!, { client_id: 'leesapp' }),
    withAssertion('private_key_jwt for a client registered with a secret (taalapp)', () =>
      clientAssertion(attackerEs256, 'taalapp', { aud: issuer, now: clock.now() }),
    ),
  ];

  it.each(cases)('$name -> $status $error, nothing stored, code still good', async ({ request, status, error, challenge }) => {
    const issued = await codeOf(reken);
    const before = kvKeys();
    const { form, headers } = await request(issued);
    const res = await postToken(tokenUrl, form, headers);
    expectTokenError(res, status, error);
    if (challenge) expect(res.headers.get('www-authenticate')).toMatch(challenge);
    expect(kvKeys()).toEqual(before);
    // The refusal came before the code was redeemed: its client can still use it.
    expectTokens(await redeem(issued));
  });

  it('reused jti -> 401 invalid_client, and the second code is still good (case 74)', async () => {
    const first = await codeOf(reken);
    const second = await codeOf(reken);
    const auth = await rekenAuth();
    expectTokens(await postToken(tokenUrl, { ...codeForm(first), ...auth }));
    const before = kvKeys();
    const replayed = await postToken(tokenUrl, { ...codeForm(second), ...auth });
    expectTokenError(replayed, 401, 'invalid_client');
    expect(replayed.headers.get('www-authenticate')).toMatch(/^\w+/);
    expect(kvKeys()).toEqual(before);
    expectTokens(await redeem(second));
  });

  it('the refusal of a too long lifetime names the limit', async () => {
    const issued = await codeOf(reken);
    const res = await postToken(tokenUrl, { ...codeForm(issued), ...(await rekenAuth({ claims: { iat: now(), exp: now() + 7200 } })) });
    expectTokenError(res, 401, 'invalid_client');
    expect(res.json?.error_description).toMatch(/\b3600 s\b/);
  });

  it.each([
    ['expired', () => ({ iat: now() - 400, exp: now() - 31 }), /\b30 s\b/],
    ['issued in the future', () => ({ iat: now() + 31, exp: now() + 91 }), /\b30 s\b/],
  ])('the refusal of an assertion %s names the clock skew', async (_name, claims, limit) => {
    const issued = await codeOf(reken);
    const res = await postToken(tokenUrl, { ...codeForm(issued), ...(await rekenAuth({ claims: claims() })) });
    expectTokenError(res, 401, 'invalid_client');
    expect(res.json?.error_description).toMatch(limit);
  });

  it('a jti is kept until its assertion expires: replayed 50 minutes later within a 3600 s lifetime -> 401', async () => {
    const first = await codeOf(reken);
    const auth = await rekenAuth({ claims: { iat: now(), exp: now() + 3600 } });
    expectTokens(await postToken(tokenUrl, { ...codeForm(first), ...auth }));
    await withClockAdvanced(50 * 60_000, async () => {
      const later = await codeOf(reken);
      expectTokenError(await postToken(tokenUrl, { ...codeForm(later), ...auth }), 401, 'invalid_client');
      expectTokens(await redeem(later));
    });
  });

  it('a jti is per client: the same jti from two clients is no replay', async () => {
    const r = await codeOf(reken);
    const l = await codeOf(lees);
    const jti = `shared-${randomBytes(8).toString('hex')}`;
    expectTokens(await postToken(tokenUrl, { ...codeForm(r), ...(await rekenAuth({ claims: { jti } })) }));
    expectTokens(await postToken(tokenUrl, { ...codeForm(l), ...(await leesAuth({ claims: { jti } })) }));
  });
});

describe('grant type and parameters (cases 39, 40)', () => {
  it('grant_type missing -> 400 invalid_request', async () => {
    const issued = await codeOf(reken);
    const { grant_type: _omit, ...form } = codeForm(issued);
    expectTokenError(await postToken(tokenUrl, { ...form, ...(await rekenAuth()) }), 400, 'invalid_request');
  });

  it.each(['password', 'client_credentials', 'refresh_token', 'urn:ietf:params:oauth:grant-type:jwt-bearer', 'implicit', 'AUTHORIZATION_CODE'])(
    'grant_type=%s -> 400 unsupported_grant_type, nothing stored',
    async (grantType) => {
      const issued = await codeOf(reken);
      const before = kvKeys();
      const res = await postToken(tokenUrl, { ...codeForm(issued), grant_type: grantType, refresh_token: 'x', username: 'u', password: 'p', ...(await rekenAuth()) });
      expectTokenError(res, 400, 'unsupported_grant_type');
      expect(kvKeys()).toEqual(before);
    },
  );

  it('code missing -> 400 invalid_request', async () => {
    const issued = await codeOf(reken);
    const { code: _omit, ...form } = codeForm(issued);
    expectTokenError(await postToken(tokenUrl, { ...form, ...(await rekenAuth()) }), 400, 'invalid_request');
  });

  it('parameters in the query string instead of the body are not read (RFC 6749 sections 3.2, 4.1.3) -> 400 invalid_request', async () => {
    const issued = await codeOf(reken);
    const query = new URLSearchParams({ ...codeForm(issued), ...(await rekenAuth()) });
    expectTokenError(await postToken(`${tokenUrl}?${query.toString()}`, {}), 400, 'invalid_request');
    expectTokens(await redeem(issued));
  });

  it('a client assertion in the query string is no client authentication (RFC 6749 section 2.3.1: never in the URI)', async () => {
    const issued = await codeOf(reken);
    const query = new URLSearchParams(await rekenAuth());
    const res = await postToken(`${tokenUrl}?${query.toString()}`, codeForm(issued));
    // Ignoring the query gives 401 invalid_client; refusing it outright gives 400 invalid_request.
    expect([400, 401]).toContain(res.status);
    expectTokenError(res, res.status, res.status === 401 ? 'invalid_client' : 'invalid_request');
    expectTokens(await redeem(issued));
  });

  const bodies: { name: string; body: (form: Record<string, string>) => { body: NonNullable<RequestInit['body']>; headers: Record<string, string> } }[] = [
    { name: 'a JSON body', body: (form) => ({ body: JSON.stringify(form), headers: { 'content-type': 'application/json' } }) },
    { name: 'a form body labelled text/plain', body: (form) => ({ body: new URLSearchParams(form).toString(), headers: { 'content-type': 'text/plain' } }) },
    { name: 'a form body without Content-Type', body: (form) => ({ body: new TextEncoder().encode(new URLSearchParams(form).toString()), headers: {} }) },
    {
      name: 'a multipart body',
      body: (form) => {
        const data = new FormData();
        for (const [k, v] of Object.entries(form)) data.append(k, v);
        return { body: data, headers: {} };
      },
    },
  ];
  it.each(bodies)('$name -> 400 invalid_request, nothing stored, code still good', async ({ body }) => {
    const issued = await codeOf(reken);
    const before = kvKeys();
    const req = body({ ...codeForm(issued), ...(await rekenAuth()) });
    const res = await call(tokenUrl, { method: 'POST', body: req.body, headers: req.headers });
    expectTokenError(res, 400, 'invalid_request');
    expect(kvKeys()).toEqual(before);
    expectTokens(await redeem(issued));
  });

  it.each(['grant_type', 'code', 'redirect_uri', 'code_verifier', 'client_assertion', 'client_assertion_type', 'client_id'])(
    'a repeated %s -> 400 invalid_request, nothing stored, code still good',
    async (name) => {
      const issued = await codeOf(reken);
      const form: Record<string, string> = { ...codeForm(issued), client_id: 'rekenapp', ...(await rekenAuth()) };
      const pairs = Object.entries(form);
      pairs.push([name, form[name]!]);
      const before = kvKeys();
      expectTokenError(await postToken(tokenUrl, pairs), 400, 'invalid_request');
      expect(kvKeys()).toEqual(before);
      expectTokens(await redeem(issued));
    },
  );

  it('a body over 16 KiB -> 413 or 400 invalid_request, never 500', async () => {
    const issued = await codeOf(reken);
    const form = { ...codeForm(issued), ...(await rekenAuth()), padding: 'x'.repeat(17 * 1024) };
    const res = await postToken(tokenUrl, form);
    expect([400, 413]).toContain(res.status);
    expectTokenError(res, res.status, 'invalid_request');
  });

  it('an empty form -> 400 invalid_request', async () => {
    expectTokenError(await postToken(tokenUrl, {}), 400, 'invalid_request');
  });
});

describe('the code (cases 34-38)', () => {
  it.each([
    ['leesapp (same supplier, private_key_jwt)', async () => ({ form: await leesAuth(), headers: {} })],
    ['taalapp (other supplier, client_secret_basic)', async () => ({ form: {}, headers: { authorization: basicAuth('taalapp', world.taalSecret) } })],
  ])('a rekenapp code redeemed by %s -> 400 invalid_grant, and then unusable for rekenapp too (case 34)', async (_name, auth) => {
    const issued = await codeOf(reken);
    const { form, headers } = await auth();
    expectTokenError(await postToken(tokenUrl, { ...codeForm(issued), ...form }, headers), 400, 'invalid_grant');
    expectTokenError(await redeem(issued), 400, 'invalid_grant');
  });

  it.each([
    ['another registered redirect URI of the client', 'https://rekenapp.example/cb2'],
    ['a trailing slash', `${REKEN_CB}/`],
    ['an added query', `${REKEN_CB}?x=1`],
    ['http instead of https', REKEN_CB.replace('https:', 'http:')],
    ['upper-case host', REKEN_CB.replace('rekenapp.example', 'REKENAPP.example')],
    ['another client’s redirect URI', LEES_CB],
  ])('redirect_uri with %s -> 400 invalid_grant, no access token stored (case 35)', async (_name, redirectUri) => {
    const issued = await codeOf(reken);
    const before = accessTokenKeys();
    expectTokenError(await postToken(tokenUrl, { ...codeForm(issued), redirect_uri: redirectUri, ...(await rekenAuth()) }), 400, 'invalid_grant');
    expect(accessTokenKeys()).toEqual(before);
  });

  it('redirect_uri missing -> 400 invalid_request (case 35)', async () => {
    const issued = await codeOf(reken);
    const { redirect_uri: _omit, ...form } = codeForm(issued);
    expectTokenError(await postToken(tokenUrl, { ...form, ...(await rekenAuth()) }), 400, 'invalid_request');
  });

  it.each([
    ['missing', () => undefined],
    ['wrong (another well-formed verifier)', () => randomBytes(32).toString('base64url')],
    ['the right one plus a character', (v: string) => `${v}A`],
    ['42 characters', (v: string) => v.slice(0, 42)],
    ['129 characters', () => 'a'.repeat(129)],
    ['43 characters outside the unreserved set', () => `${'a'.repeat(42)}!`],
    ['the code_challenge instead of the verifier', (v: string) => createHash('sha256').update(v).digest('base64url')],
  ])('code_verifier %s -> 400 invalid_grant, no access token stored (case 36)', async (_name, make) => {
    const issued = await codeOf(reken);
    const { code_verifier: _omit, ...form } = codeForm(issued);
    const verifier = make(issued.verifier);
    const before = accessTokenKeys();
    const res = await postToken(tokenUrl, { ...form, ...(verifier === undefined ? {} : { code_verifier: verifier }), ...(await rekenAuth()) });
    expectTokenError(res, 400, 'invalid_grant');
    expect(accessTokenKeys()).toEqual(before);
  });

  it('a wrong code_verifier burns the code: the right one then gets invalid_grant', async () => {
    const issued = await codeOf(reken);
    const wrong = { ...codeForm(issued), code_verifier: randomBytes(32).toString('base64url'), ...(await rekenAuth()) };
    expectTokenError(await postToken(tokenUrl, wrong), 400, 'invalid_grant');
    expectTokenError(await redeem(issued), 400, 'invalid_grant');
  });

  it('a code used after 62 s -> 400 invalid_grant (case 37)', async () => {
    const issued = await codeOf(reken);
    await withClockAdvanced(62_000, async () => {
      expectTokenError(await redeem(issued), 400, 'invalid_grant');
    });
  });

  it('a code used after 55 s still works', async () => {
    const issued = await codeOf(reken);
    await withClockAdvanced(55_000, async () => {
      expectTokens(await redeem(issued));
    });
  });

  it('a code replayed after 1 s and after 30 s -> 400 invalid_grant, and the first access token is revoked (case 38)', async () => {
    const issued = await codeOf(reken);
    const { accessToken } = expectTokens(await redeem(issued));
    expect((await userinfo(accessToken)).status).toBe(200);
    const logLines = gateway.logs.length;
    await withClockAdvanced(1_000, async () => {
      expectTokenError(await redeem(issued), 400, 'invalid_grant');
    });
    const refused = await userinfo(accessToken);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
    expect(gateway.logs.slice(logLines).filter((l) => l.includes('code_replayed'))).toHaveLength(1);
    await withClockAdvanced(30_000, async () => {
      expectTokenError(await redeem(issued), 400, 'invalid_grant');
    });
    expect((await userinfo(accessToken)).status).toBe(401);
  });

  it('a replay by Basic client taalapp also revokes its first access token', async () => {
    const issued = await codeOf(taal);
    const { accessToken } = expectTokens(await redeem(issued));
    expectTokenError(await redeem(issued), 400, 'invalid_grant');
    expect((await userinfo(accessToken)).status).toBe(401);
  });

  it('50 concurrent redemptions of one code -> exactly one 200 and 49 invalid_grant; the winner’s token is revoked (case 73)', async () => {
    const issued = await codeOf(reken);
    const forms = await Promise.all(Array.from({ length: 50 }, async () => ({ ...codeForm(issued), ...(await rekenAuth()) })));
    const results = await Promise.all(forms.map((form) => postToken(tokenUrl, form)));
    const winners = results.filter((r) => r.status === 200);
    const losers = results.filter((r) => r.status !== 200);
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(49);
    for (const r of losers) expectTokenError(r, 400, 'invalid_grant');
    const { accessToken } = expectTokens(winners[0]!);
    expect((await userinfo(accessToken)).status).toBe(401);
  });

  it('an oversized code is refused before any KV work: the client assertion sent with it is still unused', async () => {
    const issued = await codeOf(reken);
    const auth = await rekenAuth();
    expectTokenError(await postToken(tokenUrl, { ...codeForm(issued), code: 'A'.repeat(300), ...auth }), 400, 'invalid_grant');
    expectTokens(await postToken(tokenUrl, { ...codeForm(issued), ...auth }));
  });

  it('unknown, expired, consumed, foreign and oversized codes get byte-identical answers (case 76)', async () => {
    const consumed = await codeOf(reken);
    expectTokens(await redeem(consumed));
    const expired = await codeOf(reken);
    const foreign = await codeOf(lees);
    const answers: Record<string, HttpResult> = {};
    answers.unknown = await redeem({ ...consumed, code: randomBytes(32).toString('base64url') });
    answers.consumed = await redeem(consumed);
    answers.foreign = await redeem({ ...foreign, clientId: 'rekenapp', redirectUri: REKEN_CB });
    answers.oversized = await redeem({ ...consumed, code: 'A'.repeat(300) });
    answers.expired = await withClockAdvanced(62_000, () => redeem(expired));
    const reference = answers.unknown;
    for (const [name, res] of Object.entries(answers)) {
      expectTokenError(res, 400, 'invalid_grant');
      const headers = (r: HttpResult) => ({
        contentType: r.headers.get('content-type'),
        cacheControl: r.headers.get('cache-control'),
        challenge: r.headers.get('www-authenticate'),
        length: r.headers.get('content-length'),
      });
      expect({ name, text: res.text, headers: headers(res) }).toEqual({ name, text: reference.text, headers: headers(reference) });
    }
  });
});

describe('a slow store between redeeming a code and storing its token (a step by parts, as on a Redis Cluster)', () => {
  /**
   * A MemoryKv whose steps run by parts, as on a Redis Cluster (src/store/kv.ts), and whose next write under a
   * prefix waits until the test lets it go (a Redis round trip, stretched).
   */
  class GatedKv implements Kv {
    readonly inner = new MemoryKv();
    private gate: { prefix: string; reached: () => void; released: Promise<void> } | undefined;

    holdNextWrite(prefix: string): { reached: Promise<void>; release: () => void } {
      let reached!: () => void;
      let release!: () => void;
      const reachedPromise = new Promise<void>((resolve) => (reached = resolve));
      const released = new Promise<void>((resolve) => (release = resolve));
      this.gate = { prefix, reached, released };
      return { reached: reachedPromise, release };
    }
    get(key: string) {
      return this.inner.get(key);
    }
    /** Any write under the gated prefix (set or setIfAbsent) waits once. */
    private async pass(key: string): Promise<void> {
      const gate = this.gate;
      if (gate && key.startsWith(gate.prefix)) {
        this.gate = undefined;
        gate.reached();
        await gate.released;
      }
    }
    async set(key: string, value: string, ttlMs: number) {
      await this.pass(key);
      return this.inner.set(key, value, ttlMs);
    }
    async setIfAbsent(key: string, value: string, ttlMs: number) {
      await this.pass(key);
      return this.inner.setIfAbsent(key, value, ttlMs);
    }
    take(key: string) {
      return this.inner.take(key);
    }
    swap(key: string, value: string, ttlMs: number) {
      return this.inner.swap(key, value, ttlMs);
    }
    del(key: string) {
      return this.inner.del(key);
    }
    touch(key: string, ttlMs: number) {
      return this.inner.touch(key, ttlMs);
    }
    increment(key: string, windowMs: number, by?: number) {
      return this.inner.increment(key, windowMs, by);
    }
    step(step: SingleUseStep) {
      return stepByParts(this, step);
    }
    ping() {
      return this.inner.ping();
    }
    close() {
      return this.inner.close();
    }
  }

  let slow: TestGateway;
  let kv: GatedKv;
  let publisher: TestPublisher;
  beforeAll(async () => {
    kv = new GatedKv();
    slow = await startGateway({ seed: world.seed, kv });
    publisher = await TestPublisher.create(slow.url, 'rekenapp', REKEN_CB, { key: world.rekenKey });
  });
  afterAll(async () => {
    await slow?.close();
  });

  it('a replay that lands before the first redemption stored its token still revokes that token ', async () => {
    const issued = await issueCode(slow, world.regenboog, publisher, PUPIL);
    const slowToken = `${slow.url}/token`;
    const auth = async () => ({ client_assertion_type: JWT_BEARER, client_assertion: await clientAssertion(world.rekenKey, 'rekenapp', { aud: slow.url }) });
    const hold = kv.holdNextWrite('at:');
    const first = postToken(slowToken, { ...codeForm(issued), ...(await auth()) });
    await hold.reached;
    try {
      expectTokenError(await postToken(slowToken, { ...codeForm(issued), ...(await auth()) }), 400, 'invalid_grant');
    } finally {
      hold.release();
    }
    // Either the first redemption is refused too, or the token it returned is dead.
    const firstRes = await first;
    if (firstRes.status === 200) {
      const { accessToken } = expectTokens(firstRes);
      const info = await call(`${slow.url}/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } });
      expect(info.status).toBe(401);
    } else {
      expectTokenError(firstRes, 400, 'invalid_grant');
    }
  });
});
