import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addressKey } from '../../src/ops/rate-limit.js';
import { toSchool } from '../helpers/browser.js';
import { makeWorld, PUPIL, REKEN_CB, type World } from '../helpers/fixture.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { TestPublisher } from '../helpers/publisher.js';
import { call, clientAssertion, JWT_BEARER } from '../helpers/token-userinfo-requests.js';

// Oversized bodies are refused before any crypto: Fastify's bodyLimit (16 KiB on
// /token and /school/assertion) answers 413 before the handler runs. The proof
// that no signature was verified: the school and the client here publish their
// keys at a jwks_uri, so verifying anything means fetching it, and the JWKS
// server counts its requests.

describe('oversized bodies at /token and /school/assertion', () => {
  let world: World;
  let gateway: TestGateway;
  let jwksServer: Server;
  let hits = 0;
  let published: { school: object[]; client: object[] };

  beforeAll(async () => {
    world = await makeWorld();
    published = { school: world.regenboog.jwks.keys, client: [world.rekenKey.publicJwk] };
    jwksServer = createServer((req, res) => {
      hits++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: req.url === '/school' ? published.school : published.client }));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}`;
    const seed = structuredClone(world.seed) as { schools: Record<string, unknown>[]; clients: Record<string, unknown>[] };
    const school = seed.schools[0]!;
    delete school.jwks;
    school.jwksUri = `${base}/school`;
    const reken = seed.clients.find((c) => c.clientId === 'rekenapp')!;
    delete reken.jwks;
    reken.jwksUri = `${base}/client`;
    gateway = await startGateway({ seed });
  });
  afterAll(async () => {
    await gateway?.close();
    await new Promise((resolve) => jwksServer?.close(resolve));
  });

  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
  const post = (path: string, body: string, cookie = '') =>
    call(`${gateway.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) }, body });
  const padding = 'x'.repeat(17 * 1024);

  it('an oversized assertion body: a 413 assertion_malformed page, and no signature verification ran', async () => {
    const reken = await TestPublisher.create(gateway.url, 'rekenapp', REKEN_CB, { key: world.rekenKey });
    const step = await toSchool(gateway, world.regenboog, (await reken.startLogin({ school_hint: '12AB' })).url);
    const assertion = await world.regenboog.assertion(PUPIL, { nonce: step.nonce, aud: gateway.url });
    const before = hits;
    const refused = await post('/school/assertion', form({ assertion, padding }), step.cookie);
    expect(refused.status).toBe(413);
    expect(refused.text).toContain('<code>assertion_malformed</code>');
    expect(hits).toBe(before);
    // The same assertion in a body of ordinary size is verified: the school's keys are fetched, the login goes on.
    const accepted = await post('/school/assertion', form({ assertion }), step.cookie);
    expect(accepted.status).toBe(303);
    expect(hits).toBe(before + 1);
  });

  it('an oversized token body: a 413 invalid_request, and the client assertion was not verified', async () => {
    const fields = {
      grant_type: 'authorization_code',
      code: 'no-such-code',
      redirect_uri: REKEN_CB,
      code_verifier: 'v'.repeat(43),
      client_assertion_type: JWT_BEARER,
    };
    const before = hits;
    const refused = await post('/token', form({ ...fields, client_assertion: await clientAssertion(world.rekenKey, 'rekenapp', { aud: gateway.url }), padding }));
    expect({ status: refused.status, error: refused.json?.error }).toEqual({ status: 413, error: 'invalid_request' });
    expect(hits).toBe(before);
    const verified = await post('/token', form({ ...fields, client_assertion: await clientAssertion(world.rekenKey, 'rekenapp', { aud: gateway.url }) }));
    expect({ status: verified.status, error: verified.json?.error }).toEqual({ status: 400, error: 'invalid_grant' });
    expect(hits).toBe(before + 1);
  });
});

describe('addressKey: what a per-address limit counts by', () => {
  it('keeps IPv4, unwraps IPv4-mapped IPv6, and groups IPv6 by /64', () => {
    expect(addressKey('192.0.2.7')).toBe('192.0.2.7');
    expect(addressKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(addressKey('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:2::99')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:0db8:0001:0002:ffff::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  });
});
