import { randomBytes } from 'node:crypto';
import type { JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { pageOf, refusedPage } from '../helpers/assertion-tests-util.js';
import { postAssertion, toSchool } from '../helpers/browser.js';
import { makeWorld, PUPIL, type World } from '../helpers/fixture.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { JwksServer } from '../helpers/jwks-server.js';
import { testKey, type TestKey } from '../helpers/keys.js';
import { TestPublisher } from '../helpers/publisher.js';
import { TestSchool } from '../helpers/test-school.js';
import {
  clientAssertion,
  codeForm,
  expectTokenError,
  expectTokens,
  issueCode,
  JWT_BEARER,
  postToken,
} from '../helpers/token-userinfo-requests.js';

// The limits on fetching a school's or client's remote JWKS (README "Remote
// JWKS"): where it may be fetched from (production: https to public addresses,
// unless JWKS_URI_ALLOW lists the destination), how much of it is read
// (64 KiB), which content types count, and a refetch budget that a stranger's
// unauthenticated /token request cannot spend.
//
// The refetch cooldowns read Date.now(), so time is passed by shifting it.

const ROT_CB = 'https://rotapp.example/cb';
const PROD_CB = 'https://prodapp.example/cb';

let world: World;
let jwks: JwksServer;
let base: string;
let shift = 0;
const gateways: TestGateway[] = [];

const withJwksUri = (school: TestSchool, jwksUri: string) => {
  const { jwks: _inline, ...rest } = school.registration();
  return { ...rest, jwksUri };
};
const remoteClient = (clientId: string, redirectUri: string, jwksUri: string) => ({
  clientId, supplier: 'uitgever-a', name: clientId, redirectUris: [redirectUri], jwksUri, claims: ['school'],
});

async function gatewayWith(extra: { schools?: object[]; clients?: object[]; licences?: object[] }, env: Record<string, string> = {}): Promise<TestGateway> {
  const gateway = await startGateway({
    seed: {
      ...world.seed,
      schools: [...world.seed.schools, ...(extra.schools ?? [])],
      clients: [...world.seed.clients, ...(extra.clients ?? [])],
      licences: [...world.seed.licences, ...(extra.licences ?? [])],
    },
    env,
  });
  gateways.push(gateway);
  return gateway;
}

const PRODUCTION = { NODE_ENV: 'production', PSEUDONYM_MASTER_KEY: randomBytes(32).toString('base64') };

beforeAll(async () => {
  const realNow = Date.now.bind(Date);
  vi.spyOn(Date, 'now').mockImplementation(() => realNow() + shift);
  world = await makeWorld();
  jwks = new JwksServer();
  base = await jwks.listen();
});

afterAll(async () => {
  vi.restoreAllMocks();
  for (const gateway of gateways) await gateway.close();
  await jwks?.close();
});

async function schoolLoginStatus(gateway: TestGateway, school: TestSchool, publisher: TestPublisher) {
  const started = await publisher.startLogin({ school_hint: school.id });
  const step = await toSchool(gateway, school, started.url);
  return postAssertion(step, await school.assertion(PUPIL, { nonce: step.nonce, aud: gateway.url }));
}

describe('what a remote JWKS may be: size and content type (any NODE_ENV)', () => {
  let gateway: TestGateway;
  let lees: TestPublisher;
  let big: TestSchool;
  let text: TestSchool;
  let jwkSet: TestSchool;
  let justUnder: TestSchool;

  beforeAll(async () => {
    big = await TestSchool.create('56EF');
    text = await TestSchool.create('56EF01');
    jwkSet = await TestSchool.create('56EF02');
    justUnder = await TestSchool.create('56EF03');
    // A valid JWKS with a 1 MiB member jose would happily read: the gateway stops at 64 KiB.
    jwks.route('/big', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [big.key.publicJwk], padding: 'x'.repeat(1 << 20) }));
    });
    jwks.serve('/text', () => [text.key.publicJwk], 'text/plain');
    jwks.serve('/jwk-set', () => [jwkSet.key.publicJwk], 'application/jwk-set+json; charset=utf-8');
    jwks.route('/just-under', (_req, res) => {
      const body = JSON.stringify({ keys: [justUnder.key.publicJwk], padding: '' });
      res.writeHead(200, { 'content-type': 'application/json' }).end(body.replace('"padding":""', `"padding":"${'x'.repeat(64 * 1024 - body.length)}"`));
    });
    const schools: [TestSchool, string][] = [[big, '/big'], [text, '/text'], [jwkSet, '/jwk-set'], [justUnder, '/just-under']];
    gateway = await gatewayWith({
      schools: schools.map(([s, path]) => withJwksUri(s, `${base}${path}`)),
      licences: schools.map(([s]) => ({ school: s.id, client: 'leesapp', claims: ['grade'] })),
    });
    lees = await TestPublisher.create(gateway.url, 'leesapp', 'https://leesapp.example/cb', { key: world.leesKey });
  });

  it('a JWKS over 64 KiB is not read: 503 school_unavailable', async () => {
    expect(await pageOf(await schoolLoginStatus(gateway, big, lees))).toEqual(refusedPage('school_unavailable', 503));
    expect(jwks.count('/big')).toBe(1);
  });

  it('a JWKS of exactly 64 KiB is read', async () => {
    expect((await schoolLoginStatus(gateway, justUnder, lees)).status).toBe(303);
  });

  it('a JWKS served as text/plain is refused: 503 school_unavailable', async () => {
    expect(await pageOf(await schoolLoginStatus(gateway, text, lees))).toEqual(refusedPage('school_unavailable', 503));
    expect(jwks.count('/text')).toBe(1);
  });

  it('application/jwk-set+json (RFC 7517 section 8.5.2) is accepted', async () => {
    expect((await schoolLoginStatus(gateway, jwkSet, lees)).status).toBe(303);
  });
});

describe('the refetch budget: a stranger at /token cannot spend the client\'s', () => {
  let gateway: TestGateway;
  let rot: TestPublisher;
  let k0: TestKey;
  let published: JWK[];

  beforeAll(async () => {
    k0 = await testKey('ES256');
    published = [k0.publicJwk];
    jwks.serve('/rot', () => published);
    gateway = await gatewayWith({ clients: [remoteClient('rotapp', ROT_CB, `${base}/rot`)], licences: [{ school: '12AB', client: 'rotapp', claims: ['school'] }] });
    rot = await TestPublisher.create(gateway.url, 'rotapp', ROT_CB, { key: k0 });
  });

  const tokenUrl = () => `${gateway.url}/token`;
  const auth = async (key: TestKey, clientId = 'rotapp') => ({
    client_assertion_type: JWT_BEARER,
    client_assertion: await clientAssertion(key, clientId, { aud: gateway.url, now: Date.now() }),
  });
  /** A stranger: an assertion naming rotapp under a key nobody registered, with a made-up code. */
  const strangerTries = async () => {
    const form = { grant_type: 'authorization_code', code: randomBytes(32).toString('base64url'), redirect_uri: ROT_CB, code_verifier: 'v'.repeat(43) };
    return postToken(tokenUrl(), { ...form, ...(await auth(await testKey('ES256', `stranger-${randomBytes(4).toString('hex')}`))) });
  };

  it('the client authenticates with its published key (one fetch)', async () => {
    const issued = await issueCode(gateway, world.regenboog, rot, PUPIL);
    expectTokens(await postToken(tokenUrl(), { ...codeForm(issued), ...(await auth(k0)) }));
    expect(jwks.count('/rot')).toBe(1);
  });

  it('strangers with unknown kids cause at most one fetch per 30 s, and are refused', async () => {
    shift += 31_000;
    const before = jwks.count('/rot');
    for (let i = 0; i < 10; i++) expectTokenError(await strangerTries(), 401, 'invalid_client');
    expect(jwks.count('/rot') - before).toBe(1);
  });

  it('right after, the client\'s first request with a key it has just published succeeds: its budget was not spent', async () => {
    const k1 = await testKey('ES256');
    published = [k0.publicJwk, k1.publicJwk];
    const before = jwks.count('/rot');
    const issued = await issueCode(gateway, world.regenboog, rot, PUPIL);
    expectTokens(await postToken(tokenUrl(), { ...codeForm(issued), ...(await auth(k1)) }));
    expect(jwks.count('/rot')).toBe(before + 1);
    // Strangers still find both budgets spent: no further fetch.
    for (let i = 0; i < 5; i++) expectTokenError(await strangerTries(), 401, 'invalid_client');
    expect(jwks.count('/rot')).toBe(before + 1);
  });

  it('a code of another client does not open rotapp\'s budget', async () => {
    shift += 31_000;
    await strangerTries(); // spends the stranger budget
    const before = jwks.count('/rot');
    const reken = await TestPublisher.create(gateway.url, 'rekenapp', 'https://rekenapp.example/cb', { key: world.rekenKey });
    const foreign = await issueCode(gateway, world.regenboog, reken, PUPIL);
    const res = await postToken(tokenUrl(), { ...codeForm(foreign), ...(await auth(await testKey('ES256'))) });
    expectTokenError(res, 401, 'invalid_client');
    expect(jwks.count('/rot')).toBe(before);
  });
});

describe('where a remote JWKS may be fetched from', () => {
  let prodSchool: TestSchool;
  let prodKey: TestKey;

  beforeAll(async () => {
    prodSchool = await TestSchool.create('78GH');
    prodKey = await testKey('ES256');
    jwks.serve('/prod-client', () => [prodKey.publicJwk]);
    jwks.serve('/prod-school', () => [prodSchool.key.publicJwk]);
  });

  const seedFor = () => ({
    schools: [withJwksUri(prodSchool, `http://localhost:${jwks.port}/prod-school`)],
    clients: [remoteClient('prodapp', PROD_CB, `${base}/prod-client`)],
    licences: [{ school: '78GH', client: 'prodapp', claims: ['school'] }, { school: '12AB', client: 'prodapp', claims: ['school'] }],
  });

  async function tokenAttempt(gateway: TestGateway) {
    const publisher = await TestPublisher.create(gateway.url, 'prodapp', PROD_CB, { key: prodKey });
    const issued = await issueCode(gateway, world.regenboog, publisher, PUPIL);
    const assertion = await clientAssertion(prodKey, 'prodapp', { aud: gateway.url, now: Date.now() });
    return postToken(`${gateway.url}/token`, { ...codeForm(issued), client_assertion_type: JWT_BEARER, client_assertion: assertion });
  }

  it('NODE_ENV=production: http to a loopback address is never fetched (client at /token, school at login)', async () => {
    const gateway = await gatewayWith(seedFor(), PRODUCTION);
    const connections = jwks.connections;
    expectTokenError(await tokenAttempt(gateway), 401, 'invalid_client');
    const publisher = await TestPublisher.create(gateway.url, 'prodapp', PROD_CB, { key: prodKey });
    expect(await pageOf(await schoolLoginStatus(gateway, prodSchool, publisher))).toEqual(refusedPage('school_unavailable', 503));
    expect(jwks.connections).toBe(connections);
    expect(jwks.count('/prod-client') + jwks.count('/prod-school')).toBe(0);
    // The operator can see why.
    expect(gateway.logs.some((line) => line.includes('"reason":"destination_refused"'))).toBe(true);
  });

  it('NODE_ENV=production with JWKS_URI_ALLOW naming the destinations: fetched', async () => {
    const gateway = await gatewayWith(seedFor(), { ...PRODUCTION, JWKS_URI_ALLOW: 'localhost,127.0.0.1' });
    expectTokens(await tokenAttempt(gateway));
    const publisher = await TestPublisher.create(gateway.url, 'prodapp', PROD_CB, { key: prodKey });
    expect((await schoolLoginStatus(gateway, prodSchool, publisher)).status).toBe(303);
  });

  it('NODE_ENV=production with an allow-list range (127.0.0.0/8): fetched by address', async () => {
    const gateway = await gatewayWith(seedFor(), { ...PRODUCTION, JWKS_URI_ALLOW: '127.0.0.0/8' });
    expectTokens(await tokenAttempt(gateway));
  });
});
