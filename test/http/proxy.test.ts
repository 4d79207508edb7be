import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get } from '../helpers/browser.js';
import { makeWorld, REKEN_CB, type World } from '../helpers/fixture.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { TestPublisher } from '../helpers/publisher.js';

// Behind a proxy: TLS ends at a reverse proxy, and X-Forwarded-* are
// believed only from TRUST_PROXY addresses. Spoofed ones never change the
// issuer, the client address (request.ip: logs and rate-limit keys) or links.

const SPOOFED = {
  'x-forwarded-for': '203.0.113.7',
  'x-forwarded-host': 'evil.example',
  'x-forwarded-proto': 'https',
  forwarded: 'for=198.51.100.9;host=evil.example;proto=https',
};

let world: World;
beforeAll(async () => {
  world = await makeWorld();
});

/** The client address the gateway logged for the one request to `path`. */
function loggedIp(gateway: TestGateway, path: string): string[] {
  return gateway.logs
    .map((line) => JSON.parse(line) as { req?: { path?: string; ip?: string } })
    .filter((entry) => entry.req?.path === path)
    .map((entry) => entry.req!.ip!);
}

async function expectIssuerUnmoved(gateway: TestGateway): Promise<void> {
  const discovery = (await (await get(`${gateway.url}/.well-known/openid-configuration`, SPOOFED)).json()) as Record<string, string>;
  expect(discovery.issuer).toBe(gateway.url);
  expect(discovery.token_endpoint).toBe(`${gateway.url}/token`);
  expect(JSON.stringify(discovery)).not.toContain('evil.example');
  // The login request's return_to and the gateway's signature name the configured issuer too.
  const reken = await TestPublisher.create(gateway.url, 'rekenapp', REKEN_CB, { key: world.rekenKey });
  const res = await get((await reken.startLogin({ school_hint: '12AB' })).url, SPOOFED);
  expect(res.status).toBe(303);
  const { payload } = await world.regenboog.readLoginRequest(res.headers.get('location')!, gateway.signing.jwks, gateway.url);
  expect(payload.return_to.startsWith(`${gateway.url}/`)).toBe(true);
}

describe.each([
  ['no TRUST_PROXY (the default)', {}],
  ['a TRUST_PROXY list that does not hold the peer', { TRUST_PROXY: '10.0.0.0/8, 192.0.2.1, fd00::/8' }],
])('from an untrusted peer, with %s', (_name, env: Record<string, string>) => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startGateway({ seed: world.seed, env });
  });
  afterAll(async () => gateway?.close());

  it('ignores X-Forwarded-For and Forwarded: the logged client address is the socket peer', async () => {
    expect((await get(`${gateway.url}/jwks.json`, SPOOFED)).status).toBe(200);
    expect(loggedIp(gateway, '/jwks.json')).toEqual(['127.0.0.1']);
    expect(gateway.logs.join('\n')).not.toContain('203.0.113.7');
  });

  it('keeps the configured issuer whatever X-Forwarded-Host and -Proto say', async () => {
    await expectIssuerUnmoved(gateway);
  });
});

describe('from a trusted proxy (TRUST_PROXY holds the peer)', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startGateway({ seed: world.seed, env: { TRUST_PROXY: '10.0.0.0/8,127.0.0.1' } });
  });
  afterAll(async () => gateway?.close());

  it('takes the client address from X-Forwarded-For, skipping trusted hops', async () => {
    expect((await get(`${gateway.url}/jwks.json`, { 'x-forwarded-for': '203.0.113.7' })).status).toBe(200);
    // The right-most untrusted address is the client; an address the client wrote further left is not.
    expect((await get(`${gateway.url}/healthz`, { 'x-forwarded-for': '192.0.2.66, 203.0.113.8, 10.1.2.3' })).status).toBe(200);
    expect(loggedIp(gateway, '/jwks.json')).toEqual(['203.0.113.7']);
    expect(loggedIp(gateway, '/healthz')).toEqual(['203.0.113.8']);
  });

  it('still takes the issuer from configuration, never from X-Forwarded-Host or -Proto', async () => {
    await expectIssuerUnmoved(gateway);
  });
});
