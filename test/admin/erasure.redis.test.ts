import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeySchedule } from '../../src/crypto/key-schedule.js';
import { pupilInput, rootCacheKey } from '../../src/crypto/pseudonym.js';
import { schoolDay } from '../../src/release/licence.js';
import { migrate } from '../../src/store/migrate.js';
import { PgDb } from '../../src/store/pg-db.js';
import { RedisKv } from '../../src/store/redis-kv.js';
import { adminClient } from '../helpers/admin.js';
import { fullLogin } from '../helpers/browser.js';
import { freshPgDatabase } from '../helpers/db.js';
import { makeWorld, PUPIL, REKEN_CB, TAAL_CB, type World } from '../helpers/fixture.js';
import { startGateway, TEST_SCRYPT, type TestGateway } from '../helpers/gateway.js';
import { referenceRefs } from '../helpers/reference-pseudonym.js';
import { TestPublisher } from '../helpers/publisher.js';
import { isolatedRedisKv, redisUrl } from '../helpers/redis.js';
import { everyTableText, ledgerRows } from './privacy-helpers.js';

// Erasure  on real Redis and PostgreSQL, with two gateway processes
// sharing both, as in production: the pupil logs in at one, the school admin
// erases at the other. Afterwards no table row, Redis key or Redis value holds
// the pupil's student ref or root cache key, and the process that served the
// logins has forgotten its in-memory copies (told on <prefix>pupil-erased).

const BOOTSTRAP = 'bootstrap-token-0123456789-abcdefghijklmnopqrstuvwxyz';
const KEY = 'leerling-wissen-redis';

/** Every key in the Redis server (SCAN; other test runs' too), and the value of every string key, as one text. */
async function everyRedisText(): Promise<string> {
  const redis = new Redis(redisUrl(), { lazyConnect: true });
  await redis.connect();
  try {
    const texts: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'COUNT', 1000);
      cursor = next;
      // MGET answers nil for a key that is not a string (the gateway writes strings only).
      if (keys.length) texts.push(...keys, ...(await redis.mget(keys)).map((v) => v ?? ''));
    } while (cursor !== '0');
    return texts.join('\n');
  } finally {
    redis.disconnect();
  }
}

describe('erasure with Redis and PostgreSQL, across two gateway processes', () => {
  const master = randomBytes(32);
  const keys = createKeySchedule(master);
  const { ref } = referenceRefs({ master, school: '12AB', studentKey: KEY, ...TEST_SCRYPT });
  const cacheKey = rootCacheKey(keys, pupilInput('12AB', KEY));
  let world: World;
  let database: Awaited<ReturnType<typeof freshPgDatabase>>;
  let serving: TestGateway;
  let admin: TestGateway;
  /** The test's own connection, to read every table. */
  let reader: PgDb;

  beforeAll(async () => {
    world = await makeWorld();
    database = await freshPgDatabase();
    reader = PgDb.open(database.url);
    await migrate(reader);
    const { kv, prefix } = await isolatedRedisKv();
    const env = { OPERATOR_BOOTSTRAP_TOKEN: BOOTSTRAP, REDIS_URL: redisUrl(), REDIS_KEY_PREFIX: prefix };
    serving = await startGateway({ seed: world.seed, db: PgDb.open(database.url), kv, masterKey: master, env });
    admin = await startGateway({ seed: world.seed, db: PgDb.open(database.url), kv: await RedisKv.connect(redisUrl(), { keyPrefix: prefix }), masterKey: master, env });
  }, 60_000);
  afterAll(async () => {
    await serving?.close();
    await admin?.close();
    await reader?.close();
    await database?.drop();
  });

  it('leaves nothing of the pupil in any table or Redis key; audits without the pupil; the next login is recorded again', async () => {
    const reken = await TestPublisher.create(serving.url, 'rekenapp', REKEN_CB, { key: world.rekenKey });
    const taal = await TestPublisher.create(serving.url, 'taalapp', TAAL_CB, { secret: world.taalSecret });
    const pupil = { ...PUPIL, sub: KEY };
    await fullLogin(serving, world.regenboog, reken, pupil);
    await fullLogin(serving, world.regenboog, taal, pupil);
    const operator = adminClient(admin.url, BOOTSTRAP);
    expect((await operator.post('/schools/12AB/objections', { studentKey: KEY, supplier: 'uitgever-b' })).status).toBe(201);
    // What the logins left: ledger rows, their markers and the cached root, in the database and in Redis.
    expect(await ledgerRows(reader, ref)).toHaveLength(2);
    const before = await everyRedisText();
    expect(before).toContain(`disc:${ref}:`);
    expect(before).toContain(`root:${cacheKey}`);
    expect(await everyTableText(reader)).toContain(ref);
    expect(serving.roots.stats.computed).toBe(1);

    // The serving process hears the erasure on pub/sub: wait for its notice, carrying the root's cache key.
    const heard = new Promise<string>((resolve) => {
      const forgetCached = serving.roots.forgetCached.bind(serving.roots);
      (serving.roots as { forgetCached: (k: string) => void }).forgetCached = (k) => {
        forgetCached(k);
        resolve(k);
      };
    });
    const erased = await operator.post('/schools/12AB/pupils/erase', { studentKey: KEY });
    expect(erased.status).toBe(200);
    expect(erased.body).toEqual({ disclosures: 2, objections: 1, roster: 0 });
    expect(await heard).toBe(cacheKey);

    const tables = await everyTableText(reader);
    expect(tables).not.toContain(ref);
    expect(tables).not.toContain(cacheKey);
    const redis = await everyRedisText();
    expect(redis).not.toContain(ref);
    expect(redis).not.toContain(cacheKey);
    const audit = await operator.get('/schools/12AB/audit-events?limit=200');
    expect(audit.body.items.filter((e: { action: string }) => e.action === 'pupil.erased')).toEqual([
      expect.objectContaining({ actor: 'bootstrap', school: '12AB', target: 'pupil', before: null, after: { disclosures: 2, objections: 1, roster: 0 } }),
    ]);
    for (const gateway of [serving, admin]) expect(gateway.logs.join('\n')).not.toContain(ref);

    // The serving process forgot the row it remembered and the root: the same day's login writes a new row and derives the root again.
    await fullLogin(serving, world.regenboog, reken, pupil);
    expect(await ledgerRows(reader, ref)).toEqual([expect.objectContaining({ client: 'rekenapp', day: schoolDay(Date.now()), count: 1 })]);
    expect(serving.roots.stats.computed).toBe(2);
  });
});
