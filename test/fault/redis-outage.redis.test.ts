import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisKv } from '../../src/store/redis-kv.js';
import { get, postAssertion, postForm, toSchool } from '../helpers/browser.js';
import { makeWorld, PUPIL, REKEN_CB, type World } from '../helpers/fixture.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { TestPublisher } from '../helpers/publisher.js';
import { DisposableRedis } from '../helpers/redis-server.js';
import { fullLogin } from '../helpers/browser.js';

// docs/failure-behaviour.md: Redis unreachable means logins fail closed with 503 and
// Retry-After; the process stays up and recovers by itself when Redis returns.
// This suite stops and restarts a real redis-server of its own.

describe('Redis outage', () => {
  let redis: DisposableRedis;
  let world: World;
  let gateway: TestGateway;
  let reken: TestPublisher;

  beforeAll(async () => {
    redis = await DisposableRedis.start();
    world = await makeWorld();
    gateway = await startGateway({ seed: world.seed, kv: await RedisKv.connect(redis.url) });
    reken = await TestPublisher.create(gateway.url, 'rekenapp', REKEN_CB, { key: world.rekenKey });
  });
  afterAll(async () => {
    await gateway?.close();
    await redis?.down();
  });

  it('fails closed with 503 + Retry-After on every login step, stays up, and recovers when Redis returns', async () => {
    // A login that got as far as the school before Redis went away.
    const pending = await reken.startLogin({ school_hint: '12AB' });
    const step = await toSchool(gateway, world.regenboog, pending.url);
    const before = await fullLogin(gateway, world.regenboog, reken, PUPIL);

    await redis.down();

    const authorize = await get((await reken.startLogin({ school_hint: '12AB' })).url);
    expect(authorize.status).toBe(503);
    expect(authorize.headers.get('retry-after')).toBe('5');
    expect(authorize.headers.get('location')).toBeNull();
    expect(await authorize.text()).toContain('<code>temporarily_unavailable</code>');

    const assertion = await postAssertion(step, await world.regenboog.assertion(PUPIL, { nonce: step.nonce, aud: gateway.url }));
    expect(assertion.status).toBe(503);
    expect(assertion.headers.get('retry-after')).toBe('5');
    expect(assertion.headers.get('location')).toBeNull();

    const token = await postForm(`${gateway.url}/token`, { grant_type: 'authorization_code', code: 'x', redirect_uri: REKEN_CB }, {
      authorization: `Basic ${Buffer.from(`taalapp:${world.taalSecret}`).toString('base64')}`,
    });
    expect(token.status).toBe(503);
    expect(token.headers.get('retry-after')).toBe('5');
    expect(await token.json()).toMatchObject({ error: 'temporarily_unavailable' });

    const userinfo = await get(`${gateway.url}/userinfo`, { authorization: `Bearer ${before.tokens.access_token}` });
    expect(userinfo.status).toBe(503);

    expect((await get(`${gateway.url}/readyz`)).status).toBe(503);
    expect((await get(`${gateway.url}/healthz`)).status).toBe(200);

    await redis.up();

    // ioredis reconnects by itself (retry back-off at most 2 s): poll, bounded.
    const deadline = Date.now() + 15_000;
    let recovered: Awaited<ReturnType<typeof fullLogin>> | undefined;
    while (!recovered && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      if ((await get(`${gateway.url}/readyz`)).status === 200) recovered = await fullLogin(gateway, world.regenboog, reken, PUPIL);
    }
    expect(recovered?.claims.sub).toBe(before.claims.sub);
    // No 500 anywhere during the outage.
    expect(gateway.logs.filter((l) => l.includes('"statusCode":500'))).toEqual([]);
  });
});
