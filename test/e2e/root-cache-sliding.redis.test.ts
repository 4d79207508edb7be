import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postAssertion, toSchool } from '../helpers/browser.js';
import { TestClock } from '../helpers/clock.js';
import { makeWorld, PUPIL, TAAL_CB, type World } from '../helpers/fixture.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { TestPublisher } from '../helpers/publisher.js';
import { isolatedRedisKv, redisUrl } from '../helpers/redis.js';

// The first school day after the summer (docs/pseudonyms.md): on real Redis,
// a pupil's root keeps its shared lifetime while the pupil keeps logging in.
// Redis's own clock cannot be moved, so the test reads the root key's PTTL: a
// login served from process memory, a day later by the gateway's clock, gives
// the key its whole lifetime again.

const DAY_MS = 24 * 3600 * 1000;
let world: World;
let gateway: TestGateway;
let redis: Redis;
let prefix: string;
const clock = new TestClock();

beforeAll(async () => {
  world = await makeWorld();
  const isolated = await isolatedRedisKv();
  prefix = isolated.prefix;
  gateway = await startGateway({ seed: world.seed, kv: isolated.kv, clock, env: { ROOT_CACHE_TTL_DAYS: '2' } });
  redis = new Redis(redisUrl());
});
afterAll(async () => {
  await gateway?.close();
  redis?.disconnect();
});

async function login(): Promise<void> {
  const taal = await TestPublisher.create(gateway.url, 'taalapp', TAAL_CB, { secret: world.taalSecret });
  const started = await taal.startLogin({ school_hint: '12AB', prompt: 'login' });
  const step = await toSchool(gateway, world.regenboog, started.url);
  const res = await postAssertion(step, await world.regenboog.assertion(PUPIL, { nonce: step.nonce, aud: gateway.url, now: clock.now() }));
  expect(res.status).toBe(303);
}

const rootTtls = async (): Promise<number[]> => {
  const keys = await redis.keys(`${prefix}root:*`);
  return Promise.all(keys.map((k) => redis.pttl(k)));
};

describe('the shared root cache on Redis', () => {
  it('renews a root used again a day later: its lifetime starts over from the last login', async () => {
    await login();
    const [created] = await rootTtls();
    expect(created).toBeGreaterThan(2 * DAY_MS - 5_000);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const aged = (await rootTtls())[0]!;
    expect(aged).toBeLessThanOrEqual(created! - 1_000);

    // The same pupil the next day (by the gateway's clock), served from the process's memory.
    clock.advance(DAY_MS);
    await login();
    expect(gateway.roots.stats.memoryHits).toBeGreaterThanOrEqual(1);
    await gateway.roots.flushTouches();
    const renewed = await rootTtls();
    expect(renewed).toHaveLength(1);
    expect(renewed[0]).toBeGreaterThan(aged + 1_000);
    expect(renewed[0]).toBeGreaterThan(2 * DAY_MS - 5_000);
  });
});
