import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminClient } from '../helpers/admin.js';
import { fullLogin } from '../helpers/browser.js';
import { freshPgDatabase } from '../helpers/db.js';
import { LEES_CB, makeWorld, PUPIL, type World } from '../helpers/fixture.js';
import { GatewayProcess } from '../helpers/gateway-process.js';
import { TestPublisher } from '../helpers/publisher.js';
import { redisUrl } from '../helpers/redis.js';

// docs/architecture.md: a licence changed through the admin API of one gateway
// process changes the claims the next login releases at another process within
// a second. Two real processes share PostgreSQL and Redis; the periodic refresh
// is set to an hour, so only the change notice can carry the change in time.

const BOOTSTRAP = 'bootstrap-token-0123456789-abcdefghijklmnopqrstuvwxyz';

describe('registry changes across gateway processes', () => {
  let world: World;
  let database: Awaited<ReturnType<typeof freshPgDatabase>>;
  let first: GatewayProcess;
  let second: GatewayProcess;

  beforeAll(async () => {
    world = await makeWorld();
    database = await freshPgDatabase();
    const dir = await mkdtemp(join(tmpdir(), 'pgw-propagation-'));
    await writeFile(join(dir, 'seed.json'), JSON.stringify(world.seed));
    const env = (name: string) => ({
      DATA_DIR: join(dir, name),
      DATABASE_URL: database.url,
      REDIS_URL: redisUrl(),
      SEED_FILE: join(dir, 'seed.json'),
      PSEUDONYM_MASTER_KEY: randomBytes(32).toString('base64'),
      PSEUDONYM_SCRYPT_N: '1024',
      OPERATOR_BOOTSTRAP_TOKEN: BOOTSTRAP,
      REGISTRY_REFRESH_SECONDS: '3600',
    });
    // Started together: both migrate and import the seed at once.
    [first, second] = await Promise.all([GatewayProcess.start(env('a')), GatewayProcess.start(env('b'))]);
  });
  afterAll(async () => {
    await Promise.all([first?.stop(), second?.stop()]);
    await database?.drop();
  });

  it("changes the next login's released claims at the other process within a second", async () => {
    const target = await second.asLoginTarget();
    const lees = await TestPublisher.create(second.url, 'leesapp', LEES_CB, { key: world.leesKey });
    const before = await fullLogin(target, world.regenboog, lees, PUPIL);
    expect(before.claims.school).toBeUndefined();
    expect(before.claims.grade).toBe(8);

    const operator = adminClient(first.url, BOOTSTRAP);
    const licence = (await operator.get('/schools/12AB/licences')).body.items.find((l: { client: string }) => l.client === 'leesapp');
    const changed = await operator.put(`/schools/12AB/licences/${licence.id}`, { client: 'leesapp', claims: ['school', 'grade'] });
    expect(changed.status).toBe(200);
    const changedAt = Date.now();

    let after = await fullLogin(target, world.regenboog, lees, PUPIL);
    while (after.claims.school === undefined && Date.now() - changedAt < 1000) after = await fullLogin(target, world.regenboog, lees, PUPIL);
    expect(after.claims.school).toBe('12AB');
    expect(after.claims.grade).toBe(8);
    // The seed was imported once although both processes imported it at start.
    expect((await operator.get('/schools/12AB/licences')).body.total).toBe(3);
  });
});
