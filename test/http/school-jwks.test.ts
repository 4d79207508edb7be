import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { pageOf, refusedPage } from '../helpers/assertion-tests-util.js';
import { fullLogin, postAssertion, toSchool, type SchoolStep } from '../helpers/browser.js';
import { LEES_CB, makeWorld, PUPIL, type World } from '../helpers/fixture.js';
import { startGateway, stateKeys, type TestGateway } from '../helpers/gateway.js';
import { testKey, type TestKey } from '../helpers/keys.js';
import { TestPublisher } from '../helpers/publisher.js';
import { TestSchool } from '../helpers/test-school.js';

// A school registered with `jwksUri` instead of inline keys
// (docs/registrations.md, Keys): the gateway fetches the school's JWKS, refetches on an unknown
// kid at most once per 30 s cooldown, and answers 503 school_unavailable when the JWKS cannot be fetched.
//
// The remote key sets (src/outbound/remote-keys.ts) read Date.now(), so the cooldown is
// passed by shifting Date.now() forward (the gateway's clock and the test school read it too).

/** A school's JWKS endpoint on loopback, with a few ways to fail, counting requests per path. */
class JwksServer {
  readonly hits = new Map<string, number>();
  /** Keys served at /jwks. */
  published: JWK[] = [];
  /** Keys served at /jwks-flaky, which drops the connection while `flakyUp` is false. */
  flakyKeys: JWK[] = [];
  flakyUp = false;
  private readonly server: Server;

  constructor() {
    this.server = createServer((req, res) => {
      const path = req.url ?? '';
      this.hits.set(path, this.count(path) + 1);
      const json = (body: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      switch (path) {
        case '/jwks':
          return json({ keys: this.published });
        case '/jwks-500':
          return res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error');
        case '/jwks-html':
          return res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Maintenance</body></html>');
        case '/jwks-bad-shape':
          return json({ keys: 'not a list' });
        case '/jwks-hang':
          return; // never answers
        case '/jwks-flaky':
          if (!this.flakyUp) return req.socket.destroy();
          return json({ keys: this.flakyKeys });
        default:
          return res.writeHead(404).end();
      }
    });
  }

  count(path: string): number {
    return this.hits.get(path) ?? 0;
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let world: World;
let jwks: JwksServer;
let gateway: TestGateway;
let lees: TestPublisher;
let remote: TestSchool;
let down: TestSchool;
let failing: TestSchool;
let html: TestSchool;
let badShape: TestSchool;
let hanging: TestSchool;
let flaky: TestSchool;
let shift = 0;

beforeAll(async () => {
  const realNow = Date.now.bind(Date);
  vi.spyOn(Date, 'now').mockImplementation(() => realNow() + shift);

  world = await makeWorld();
  jwks = new JwksServer();
  const base = await jwks.listen();
  remote = await TestSchool.create('56EF');
  down = await TestSchool.create('78GH');
  failing = await TestSchool.create('78GH01');
  html = await TestSchool.create('78GH02');
  badShape = await TestSchool.create('78GH03');
  hanging = await TestSchool.create('90IJ');
  flaky = await TestSchool.create('90IJ01');
  jwks.published = [remote.key.publicJwk];
  jwks.flakyKeys = [flaky.key.publicJwk];

  const withJwksUri = (school: TestSchool, jwksUri: string) => {
    const { jwks: _inline, ...rest } = school.registration();
    return { ...rest, jwksUri };
  };
  const schools: [TestSchool, string][] = [
    [remote, `${base}/jwks`],
    [down, `http://127.0.0.1:${await closedPort()}/jwks`],
    [failing, `${base}/jwks-500`],
    [html, `${base}/jwks-html`],
    [badShape, `${base}/jwks-bad-shape`],
    [hanging, `${base}/jwks-hang`],
    [flaky, `${base}/jwks-flaky`],
  ];
  gateway = await startGateway({
    seed: {
      ...world.seed,
      schools: [...world.seed.schools, ...schools.map(([s, uri]) => withJwksUri(s, uri))],
      licences: [...world.seed.licences, ...schools.map(([s]) => ({ school: s.id, client: 'leesapp', claims: ['grade'] }))],
    },
  });
  lees = await TestPublisher.create(gateway.url, 'leesapp', LEES_CB, { key: world.leesKey });
});

afterAll(async () => {
  vi.restoreAllMocks();
  await gateway?.close();
  await jwks?.close();
});

const kvKeys = () => stateKeys(gateway.kv);

async function begin(school: TestSchool): Promise<SchoolStep> {
  const started = await lees.startLogin({ school_hint: school.id });
  return toSchool(gateway, school, started.url);
}

const assertionFor = (school: TestSchool, step: SchoolStep, key?: TestKey) =>
  school.assertion(PUPIL, { nonce: step.nonce, aud: gateway.url, ...(key ? { key } : {}) });

describe('a school with a remote JWKS (sequential: the cache state carries over)', () => {
  it('logs a pupil in, fetching the JWKS once', async () => {
    const { claims } = await fullLogin(gateway, remote, lees, PUPIL);
    expect(claims.sub).toMatch(/^[a-z2-7]{32}$/);
    expect(jwks.count('/jwks')).toBe(1);
  });

  it('a second login uses the cached keys: no refetch', async () => {
    await fullLogin(gateway, remote, lees, PUPIL);
    expect(jwks.count('/jwks')).toBe(1);
  });

  it('a token with a new kid the school has since published is accepted after exactly one refetch', async () => {
    const rotated = await testKey('ES256');
    jwks.published = [remote.key.publicJwk, rotated.publicJwk];
    shift += 31_000; // past the 30 s cooldown since the last fetch
    const before = jwks.count('/jwks');
    const step = await begin(remote);
    const res = await postAssertion(step, await assertionFor(remote, step, rotated));
    expect(res.status).toBe(303);
    expect(jwks.count('/jwks')).toBe(before + 1);
    // The new key keeps working without further fetches.
    const again = await begin(remote);
    expect((await postAssertion(again, await assertionFor(remote, again, rotated))).status).toBe(303);
    expect(jwks.count('/jwks')).toBe(before + 1);
  });

  it('40 tokens with random unknown kids (20 at once, then 20 one by one): at most one refetch, each refused', async () => {
    shift += 31_000; // the cooldown has passed again: one refetch is allowed, not more
    const before = jwks.count('/jwks');
    const step = await begin(remote);
    const kvBefore = kvKeys();
    const forge = async () => assertionFor(remote, step, await testKey('ES256', `unknown-${Math.random().toString(36).slice(2)}`));
    const together = await Promise.all(Array.from({ length: 20 }, async () => pageOf(await postAssertion(step, await forge()))));
    const oneByOne = [];
    for (let i = 0; i < 20; i++) oneByOne.push(await pageOf(await postAssertion(step, await forge())));
    expect([...together, ...oneByOne]).toEqual(Array.from({ length: 40 }, () => refusedPage('assertion_unknown_key')));
    expect(jwks.count('/jwks') - before).toBeLessThanOrEqual(1);
    expect(kvKeys()).toEqual(kvBefore);
    // The pending login survived all of it; the school's own key completes it, with no further fetch.
    const fetchesSoFar = jwks.count('/jwks');
    expect((await postAssertion(step, await assertionFor(remote, step))).status).toBe(303);
    expect(jwks.count('/jwks')).toBe(fetchesSoFar);
  });
});

describe('a school whose JWKS cannot be fetched: 503 school_unavailable, nothing stored, nothing to the publisher', () => {
  async function expectUnavailable(school: TestSchool): Promise<SchoolStep> {
    const step = await begin(school);
    const before = kvKeys();
    const res = await postAssertion(step, await assertionFor(school, step));
    expect(await pageOf(res)).toEqual(refusedPage('school_unavailable', 503));
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(kvKeys()).toEqual(before);
    return step;
  }

  it('connection refused (nothing listens on the port)', async () => {
    await expectUnavailable(down);
  });

  it('the endpoint answers 500', async () => {
    await expectUnavailable(failing);
    expect(jwks.count('/jwks-500')).toBeGreaterThan(0);
  });

  it('the endpoint answers 200 with an HTML maintenance page', async () => {
    await expectUnavailable(html);
    expect(jwks.count('/jwks-html')).toBeGreaterThan(0);
  });

  it('the endpoint answers JSON that is not a JWKS', async () => {
    await expectUnavailable(badShape);
  });

  it('the endpoint never answers (timeout)', async () => {
    await expectUnavailable(hanging);
    expect(jwks.count('/jwks-hang')).toBeGreaterThan(0);
  });

  it('the connection drops; the endpoint is left alone for 5 s, then the same pending login completes', async () => {
    jwks.flakyUp = false;
    const step = await expectUnavailable(flaky);
    jwks.flakyUp = true;
    // Within the failure cooldown the gateway does not hammer the school's endpoint.
    const fetches = jwks.count('/jwks-flaky');
    const early = await postAssertion(step, await assertionFor(flaky, step));
    expect(early.status).toBe(503);
    expect(jwks.count('/jwks-flaky')).toBe(fetches);
    shift += 5_001;
    const res = await postAssertion(step, await assertionFor(flaky, step));
    expect(res.status).toBe(303);
    expect(new URL(res.headers.get('location')!).searchParams.get('code')).toBeTruthy();
  });
});
