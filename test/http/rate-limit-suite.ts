import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kv } from '../../src/store/kv.js';
import { fullLogin, postAssertion, toSchool } from '../helpers/browser.js';
import { makeWorld, PUPIL, REKEN_CB, TAAL_CB, type World } from '../helpers/fixture.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { TestPublisher } from '../helpers/publisher.js';
import { basicAuth, call, clientAssertion, JWT_BEARER, postToken, type HttpResult } from '../helpers/token-userinfo-requests.js';

// Rate limits on POST /token (per authenticated client and per address) and on
// POST /school/assertion (per address and per verified school issuer): a 429
// with Retry-After in the endpoint's own error style, per key, through real HTTP.

/** A request from another loopback address (127.0.0.2): another client address for the per-address limits. */
const otherAddress = new Agent({ localAddress: '127.0.0.2' });
async function fromOtherAddress(url: string, init: { headers: Record<string, string>; body: string }): Promise<{ status: number; text: string }> {
  const res = await undiciFetch(url, { method: 'POST', redirect: 'manual', dispatcher: otherAddress, ...init });
  return { status: res.status, text: await res.text() };
}

type KvFactory = () => Promise<{ kv: Kv; cleanup: () => Promise<void> }>;

export function defineRateLimitSuite(makeKv: KvFactory) {
  let world: World;
  const opened: { gateway: TestGateway; cleanup: () => Promise<void> }[] = [];

  beforeAll(async () => {
    world = await makeWorld();
  });
  afterAll(async () => {
    for (const { gateway, cleanup } of opened) {
      await gateway.close();
      await cleanup();
    }
  });

  async function gatewayWith(env: Record<string, string>): Promise<TestGateway> {
    const { kv, cleanup } = await makeKv();
    const gateway = await startGateway({ seed: world.seed, kv, env });
    opened.push({ gateway, cleanup });
    return gateway;
  }

  const badCodeForm = { grant_type: 'authorization_code', code: 'no-such-code', redirect_uri: TAAL_CB, code_verifier: 'v'.repeat(43) };
  const taalToken = (gateway: TestGateway, secret = world.taalSecret) =>
    postToken(`${gateway.url}/token`, badCodeForm, { authorization: basicAuth('taalapp', secret) });
  const rekenToken = async (gateway: TestGateway) =>
    postToken(`${gateway.url}/token`, {
      ...badCodeForm,
      redirect_uri: REKEN_CB,
      client_assertion_type: JWT_BEARER,
      client_assertion: await clientAssertion(world.rekenKey, 'rekenapp', { aud: gateway.url }),
    });

  function expectTokenRateLimited(res: HttpResult): void {
    expect({ status: res.status, body: res.json }).toEqual({
      status: 429,
      body: { error: 'too_many_requests', error_description: 'Too many requests, try again later' },
    });
    expect(res.headers.get('cache-control')).toBe('no-store');
    expectRetryAfter(res);
  }

  describe('POST /token', () => {
    it('per authenticated client: 429 after the limit, with Retry-After and an RFC 6749 error body; another client is unaffected', async () => {
      const gateway = await gatewayWith({ RATE_LIMIT_TOKEN_PER_MIN: '3' });
      for (let i = 0; i < 3; i++) expect((await taalToken(gateway)).json?.error).toBe('invalid_grant');
      expectTokenRateLimited(await taalToken(gateway));
      expectTokenRateLimited(await taalToken(gateway));
      // Another client, same address: its own budget.
      expect((await rekenToken(gateway)).json?.error).toBe('invalid_grant');
    });

    it('counts a client only once it is authenticated: claiming its client_id does not spend its budget', async () => {
      const gateway = await gatewayWith({ RATE_LIMIT_TOKEN_PER_MIN: '2' });
      for (let i = 0; i < 5; i++) expect((await taalToken(gateway, 'wrong-secret-0123456789-0123456789')).status).toBe(401);
      expect((await taalToken(gateway)).json?.error).toBe('invalid_grant');
      expect((await taalToken(gateway)).json?.error).toBe('invalid_grant');
      expectTokenRateLimited(await taalToken(gateway));
    });

    it('per address: 429 for every client from that address, before any client authentication; another address is unaffected', async () => {
      const gateway = await gatewayWith({ RATE_LIMIT_TOKEN_IP_PER_MIN: '2' });
      expect((await taalToken(gateway)).json?.error).toBe('invalid_grant');
      expect((await taalToken(gateway, 'wrong-secret-0123456789-0123456789')).status).toBe(401);
      expectTokenRateLimited(await rekenToken(gateway));
      expectTokenRateLimited(await taalToken(gateway));
      const elsewhere = await fromOtherAddress(`${gateway.url}/token`, {
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth('taalapp', world.taalSecret) },
        body: new URLSearchParams(badCodeForm).toString(),
      });
      expect(JSON.parse(elsewhere.text)).toMatchObject({ error: 'invalid_grant' });
    });
  });

  describe('POST /school/assertion', () => {
    const garbage = { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'assertion=not-a-jws' };
    const postGarbage = (gateway: TestGateway) => call(`${gateway.url}/school/assertion`, { method: 'POST', ...garbage });

    it('per address: a 429 page, Dutch first, with Retry-After and no redirect; another address is unaffected', async () => {
      const gateway = await gatewayWith({ RATE_LIMIT_ASSERTION_PER_MIN: '2' });
      for (let i = 0; i < 2; i++) expect((await postGarbage(gateway)).status).toBe(400);
      const refused = await postGarbage(gateway);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('content-type')).toMatch(/^text\/html/);
      expect(refused.headers.get('location')).toBeNull();
      expect(refused.text).toContain('<code>too_many_requests</code>');
      expect(refused.text.indexOf('Te veel pogingen')).toBeGreaterThan(-1);
      expect(refused.text.indexOf('Te veel pogingen')).toBeLessThan(refused.text.indexOf('Too many attempts'));
      expectRetryAfter(refused);
      expect((await fromOtherAddress(`${gateway.url}/school/assertion`, garbage)).status).toBe(400);
    });

    it('per verified school issuer: 429 past the limit for that school; another school still logs in', async () => {
      const gateway = await gatewayWith({ RATE_LIMIT_ASSERTION_ISSUER_PER_MIN: '2' });
      const reken = await TestPublisher.create(gateway.url, 'rekenapp', REKEN_CB, { key: world.rekenKey });
      const taal = await TestPublisher.create(gateway.url, 'taalapp', TAAL_CB, { secret: world.taalSecret });
      // Assertions that fail verification are not the school's: they do not count.
      for (let i = 0; i < 3; i++) expect((await postGarbage(gateway)).status).toBe(400);
      await fullLogin(gateway, world.regenboog, reken, PUPIL);
      await fullLogin(gateway, world.regenboog, reken, PUPIL);
      const started = await reken.startLogin({ school_hint: world.regenboog.id });
      const step = await toSchool(gateway, world.regenboog, started.url);
      const refused = await postAssertion(step, await world.regenboog.assertion(PUPIL, { nonce: step.nonce, aud: gateway.url }));
      expect(refused.status).toBe(429);
      expect(refused.headers.get('location')).toBeNull();
      expect(await refused.text()).toContain('<code>too_many_requests</code>');
      const other = await fullLogin(gateway, world.klimop, taal, PUPIL, { school_hint: world.klimop.id });
      expect(other.claims.school).toBe('34CD01');
    });
  });
}

function expectRetryAfter(res: { headers: Headers }): void {
  const seconds = Number(res.headers.get('retry-after'));
  expect(Number.isInteger(seconds)).toBe(true);
  expect(seconds).toBeGreaterThanOrEqual(1);
  expect(seconds).toBeLessThanOrEqual(60);
}
