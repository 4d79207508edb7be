import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisKv } from '../../src/store/redis-kv.js';
import { get } from '../helpers/browser.js';
import { makeWorld, PUPIL, REKEN_CB, type World } from '../helpers/fixture.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { TestPublisher } from '../helpers/publisher.js';
import { DisposableRedis } from '../helpers/redis-server.js';
import { codeForm, issueCode, JWT_BEARER, clientAssertion, call } from '../helpers/token-userinfo-requests.js';

// docs/operations.md: Redis runs with maxmemory-policy noeviction (as
// docker-compose.yml starts it). When full it refuses writes: logins answer
// 503 with Retry-After and nothing is lost; an eviction policy would instead
// drop codes or replay markers silently. This suite fills a Redis of its own.

describe('Redis full (noeviction)', () => {
  let redis: DisposableRedis;
  let filler: Redis;
  let world: World;
  let gateway: TestGateway;
  let reken: TestPublisher;

  beforeAll(async () => {
    redis = await DisposableRedis.start(['--maxmemory', '4mb', '--maxmemory-policy', 'noeviction']);
    filler = new Redis(redis.url, { maxRetriesPerRequest: 0 });
    world = await makeWorld();
    gateway = await startGateway({ seed: world.seed, kv: await RedisKv.connect(redis.url) });
    reken = await TestPublisher.create(gateway.url, 'rekenapp', REKEN_CB, { key: world.rekenKey });
  });
  afterAll(async () => {
    await gateway?.close();
    filler?.disconnect();
    await redis?.down();
  });

  const redeem = async (issued: Awaited<ReturnType<typeof issueCode>>) =>
    call(`${gateway.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        ...codeForm(issued), client_assertion_type: JWT_BEARER, client_assertion: await clientAssertion(world.rekenKey, 'rekenapp', { aud: gateway.url }),
      }).toString(),
    });

  it('refuses new logins with 503 + Retry-After while full, keeps an issued code, and serves it once memory is free', async () => {
    const issued = await issueCode(gateway, world.regenboog, reken, PUPIL);

    // Fill Redis until it refuses even small writes: big values first, then smaller ones into what is left
    // (a refused big write frees its own buffer). Bounded: 4 MiB.
    let full = false;
    let n = 0;
    for (const size of [16_384, 1_024, 64]) {
      full = false;
      for (let i = 0; i < 70_000 && !full; i++) {
        full = await filler.set(`filler:${n++}`, 'x'.repeat(size)).then(() => false, (err: Error) => /OOM/.test(err.message));
      }
    }
    expect(full).toBe(true);

    const authorize = await get((await reken.startLogin({ school_hint: '12AB' })).url);
    expect(authorize.status).toBe(503);
    expect(authorize.headers.get('retry-after')).toBe('5');
    expect(authorize.headers.get('location')).toBeNull();
    const refused = await redeem(issued);
    expect({ status: refused.status, error: refused.json?.error }).toEqual({ status: 503, error: 'temporarily_unavailable' });

    // Nothing was evicted: once memory is free, the code issued before is still there, and single use.
    for (let i = 0; i < n; i += 1_000) await filler.del(...Array.from({ length: Math.min(1_000, n - i) }, (_, j) => `filler:${i + j}`));
    const tokens = await redeem(issued);
    expect({ status: tokens.status, error: tokens.json?.error }).toEqual({ status: 200, error: undefined });
    expect((await redeem(issued)).json?.error).toBe('invalid_grant');
    expect(gateway.logs.filter((l) => l.includes('"statusCode":500'))).toEqual([]);
  });
});
