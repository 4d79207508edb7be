import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryKv } from '../../src/store/memory-kv.js';
import { adminClient, expectRateLimited } from '../helpers/admin.js';
import { pgliteTestDb, type TestDb } from '../helpers/db.js';
import { makeWorld } from '../helpers/fixture.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';

const BOOTSTRAP = 'bootstrap-token-0123456789-abcdefghijklmnopqrstuvwxyz';

describe('admin rate limit, in process', () => {
  let gateway: TestGateway;
  let store: TestDb;
  beforeAll(async () => {
    store = await pgliteTestDb();
    gateway = await startGateway({ seed: (await makeWorld()).seed, db: store.db, kv: new MemoryKv(), env: { OPERATOR_BOOTSTRAP_TOKEN: BOOTSTRAP, RATE_LIMIT_ADMIN_PER_MIN: '3' } });
  }, 60_000);
  afterAll(async () => {
    await gateway?.close();
  });

  it('answers 429 with Retry-After and a problem body past the limit, unauthenticated requests counted too', async () => {
    const anonymous = adminClient(gateway.url, null);
    const operator = adminClient(gateway.url, BOOTSTRAP);
    const statuses = [(await anonymous.get('/schools')).status, (await operator.get('/schools')).status, (await operator.get('/schools')).status];
    const over = await operator.get('/schools');
    expect(statuses).toEqual([401, 200, 200]);
    expectRateLimited(over);
  });
});
