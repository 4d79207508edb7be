import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedRedisKv } from '../helpers/redis.js';
import { adminClient, expectRateLimited } from '../helpers/admin.js';
import { pgliteTestDb } from '../helpers/db.js';
import { makeWorld } from '../helpers/fixture.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';

const BOOTSTRAP = 'bootstrap-token-0123456789-abcdefghijklmnopqrstuvwxyz';

// The admin API's limit counts across every gateway sharing Redis.
describe('admin rate limit, counters in Redis shared by two gateways', () => {
  const gateways: TestGateway[] = [];

  beforeAll(async () => {
    const world = await makeWorld();
    const { kv } = await isolatedRedisKv();
    for (let i = 0; i < 2; i++) {
      const store = await pgliteTestDb();
      gateways.push(await startGateway({ seed: world.seed, db: store.db, kv, env: { OPERATOR_BOOTSTRAP_TOKEN: BOOTSTRAP, RATE_LIMIT_ADMIN_PER_MIN: '3' } }));
    }
  }, 60_000);
  afterAll(async () => {
    for (const g of gateways) await g.close();
  });

  it('answers 429 with Retry-After and a problem body past the limit', async () => {
    const [one, two] = gateways.map((g) => adminClient(g.url, BOOTSTRAP)) as [ReturnType<typeof adminClient>, ReturnType<typeof adminClient>];
    const statuses = [(await one.get('/schools')).status, (await one.get('/schools')).status];
    // A second gateway counts against the same limit only when the counters are shared (Redis).
    statuses.push((await two.get('/schools')).status);
    const over = await one.get('/schools');
    expect(statuses).toEqual([200, 200, 200]);
    expectRateLimited(over);
  });
});
