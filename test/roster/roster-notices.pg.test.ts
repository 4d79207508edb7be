import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgDb } from '../../src/store/pg-db.js';
import { migrate } from '../../src/store/migrate.js';
import { adminClient } from '../helpers/admin.js';
import { freshPgDatabase } from '../../support/pg.js';
import { makeWorld } from '../helpers/fixture.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { redisUrl } from '../helpers/redis.js';
import { PEOPLE } from '../../support/roster-files.js';

// A roster change made through one gateway reaches the login cache of another
// (docs/roster.md, "At login"): the second process cached the person; after
// the first removes them, the second stops finding them within a second, long
// before its cache entry would expire (30 s). Real PostgreSQL and Redis pub/sub.

const BOOTSTRAP = 'bootstrap-token-0123456789-abcdefghijklmnopqrstuvwxyz';

describe('roster changes across gateways', () => {
  let database: Awaited<ReturnType<typeof freshPgDatabase>>;
  let first: TestGateway;
  let second: TestGateway;

  beforeAll(async () => {
    const world = await makeWorld();
    database = await freshPgDatabase();
    const master = randomBytes(32);
    const env = { OPERATOR_BOOTSTRAP_TOKEN: BOOTSTRAP, REDIS_URL: redisUrl(), REDIS_KEY_PREFIX: `pgwtest:${randomBytes(6).toString('hex')}:` };
    const open = async () => {
      const db = PgDb.open(database.url);
      await migrate(db);
      return db;
    };
    first = await startGateway({ seed: world.seed, db: await open(), masterKey: master, env });
    second = await startGateway({ seed: world.seed, db: await open(), masterKey: master, env });
  }, 60_000);
  afterAll(async () => {
    await Promise.all([first?.close(), second?.close()]);
    await database?.drop();
  });

  it("empties the other gateway's cached answer within a second of a removal", async () => {
    const operator = adminClient(first.url, BOOTSTRAP);
    expect((await operator.put('/schools/12AB/roster', { people: PEOPLE })).status).toBe(200);
    const pupil = PEOPLE[0]!;
    const find = () => second.app.roster!.findRosterPerson('12AB', 'sub', pupil.logins[0]!);
    // Wait for the import's own notice, then cache the answer in the second gateway.
    for (let i = 0; i < 50 && !(await find()); i++) await new Promise((r) => setTimeout(r, 20));
    expect(await find()).toEqual(pupil);

    expect((await operator.put('/schools/12AB/roster', { people: PEOPLE.slice(1) })).body.counts.removed).toBe(1);
    const started = Date.now();
    while ((await find()) && Date.now() - started < 1_000) await new Promise((r) => setTimeout(r, 20));
    expect(await find()).toBeUndefined();
  });
});
