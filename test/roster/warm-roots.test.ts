import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeySchedule } from '../../src/crypto/key-schedule.js';
import { pupilInput, rootCacheKey } from '../../src/crypto/pseudonym.js';
import { createRootCache } from '../../src/crypto/root-cache.js';
import { MemoryKv } from '../../src/store/memory-kv.js';
import { PEOPLE } from '../../support/roster-files.js';
import { adminClient, type AdminClient } from '../helpers/admin.js';
import { pgliteTestDb, type TestDb } from '../helpers/db.js';
import { makeWorld, type World } from '../helpers/fixture.js';
import { startGateway, TEST_SCRYPT, type TestGateway } from '../helpers/gateway.js';

// The first school day after the summer (docs/pseudonyms.md): a school warms
// its whole roster's pseudonym roots with one job through the admin API, so
// the morning when every pupil logs in at once finds every root cached.

const BOOTSTRAP = 'bootstrap-token-0123456789-abcdefghijklmnopqrstuvwxyz';
const SCHOOL = '12AB';
const master = randomBytes(32);
const keys = createKeySchedule(master);
let world: World;
let store: TestDb;
let kv: MemoryKv;
let gateway: TestGateway;
let school: AdminClient;

beforeAll(async () => {
  world = await makeWorld();
  store = await pgliteTestDb();
  kv = new MemoryKv();
  gateway = await startGateway({ seed: world.seed, db: store.db, kv, masterKey: master, env: { OPERATOR_BOOTSTRAP_TOKEN: BOOTSTRAP, RATE_LIMIT_ADMIN_PER_MIN: '100000' } });
  const operator = adminClient(gateway.url, BOOTSTRAP);
  school = adminClient(gateway.url, (await operator.post(`/schools/${SCHOOL}/tokens`, { label: 'LAS' })).body.token);
}, 60_000);
afterAll(async () => {
  await gateway?.close();
  await store?.cleanup();
});

const cachedRoots = () => new Set(kv.keys().filter((k) => k.startsWith('root:')).map((k) => k.slice('root:'.length)));

describe('warming a roster\'s pseudonym roots', () => {
  it('derives and caches every person\'s root in one job, readable with progress; a new process then finds them without scrypt', async () => {
    expect((await school.put(`/schools/${SCHOOL}/roster`, { people: PEOPLE })).status).toBe(200);
    expect(cachedRoots().size).toBe(0);

    const started = await school.post(`/schools/${SCHOOL}/roster/warm-roots`, {});
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ status: 'running', total: PEOPLE.length });
    const location = started.headers.get('location')!;
    let state = started.body;
    for (let i = 0; i < 100 && state.status === 'running'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      state = (await school.get(location.replace('/admin/v1', ''))).body;
    }
    expect(state).toMatchObject({ status: 'done', total: PEOPLE.length, done: PEOPLE.length });

    const expected = PEOPLE.map((p) => rootCacheKey(keys, pupilInput(SCHOOL, p.studentKey)));
    expect(cachedRoots()).toEqual(new Set(expected));
    // Another process (a fresh root cache on the same shared KV): every roster pupil is warm.
    const fresh = createRootCache(keys, kv, { cost: TEST_SCRYPT });
    for (const p of PEOPLE) await fresh.rootFor(pupilInput(SCHOOL, p.studentKey));
    expect(fresh.stats).toMatchObject({ kvHits: PEOPLE.length, computed: 0 });
    await fresh.close();
  });

  it('is the school\'s own: another school\'s token gets the 404 of a missing school', async () => {
    const operator = adminClient(gateway.url, BOOTSTRAP);
    const other = adminClient(gateway.url, (await operator.post('/schools/34CD01/tokens', { label: 'other' })).body.token);
    expect((await other.post(`/schools/${SCHOOL}/roster/warm-roots`, {})).status).toBe(404);
  });
});
