import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STALE_AFTER_MS } from '../../src/privacy/job-store.js';
import { RedisKv } from '../../src/store/redis-kv.js';
import { adminClient, type AdminClient } from '../helpers/admin.js';
import { TestClock } from '../helpers/clock.js';
import { pgliteTestDb } from '../helpers/db.js';
import { EMBEDDED_ENV } from '../helpers/env.js';
import { makeWorld, type World } from '../helpers/fixture.js';
import { startGateway, TEST_SCRYPT, type TestGateway } from '../helpers/gateway.js';
import { freePort } from '../helpers/net.js';
import { startProcess, type GatewayProcess } from '../helpers/process-gateway.js';
import { isolatedRedisKv, redisUrl } from '../helpers/redis.js';
import { waitForJob } from '../helpers/resolution.js';

// Pseudonym jobs on Redis: a job runs in the process that accepted it, and any
// process sharing Redis answers for it (state, progress, result). A process
// that stops, gracefully or by a crash, leaves its job failed (interrupted).
// No student key reaches Redis.

const BOOTSTRAP = 'bootstrap-token-0123456789-abcdefghijklmnopqrstuvwxyz';
const JOBS = '/schools/12AB/pseudonym-jobs';
const roster = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `geheim-${tag}-${i}-${randomBytes(4).toString('hex')}`);

describe('pseudonym jobs across processes sharing Redis', () => {
  const master = randomBytes(32);
  const readerClock = new TestClock();
  let world: World;
  let prefix: string;
  let redis: Redis;
  const gateways: TestGateway[] = [];

  /** A gateway on the shared Redis namespace, with its own embedded database (jobs need only the KV to be read). */
  async function gateway(clock?: TestClock): Promise<{ gw: TestGateway; admin: AdminClient }> {
    const kv = await RedisKv.connect(redisUrl(), { keyPrefix: prefix });
    const store = await pgliteTestDb();
    const gw = await startGateway({ seed: world.seed, db: store.db, kv, masterKey: master, ...(clock ? { clock } : {}), env: { OPERATOR_BOOTSTRAP_TOKEN: BOOTSTRAP } });
    gateways.push(gw);
    return { gw, admin: adminClient(gw.url, BOOTSTRAP) };
  }

  beforeAll(async () => {
    world = await makeWorld();
    const isolated = await isolatedRedisKv();
    prefix = isolated.prefix;
    await isolated.kv.close();
    redis = new Redis(redisUrl());
  });
  afterAll(async () => {
    for (const gw of gateways) await gw.close().catch(() => undefined);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  /** Every key in the namespace with its value (strings) or type, and its TTL. */
  async function redisContents(): Promise<{ key: string; value: string; pttl: number }[]> {
    const out = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      for (const key of keys) {
        const type = await redis.type(key);
        out.push({ key, value: type === 'string' ? ((await redis.get(key)) ?? '') : `(${type})`, pttl: await redis.pttl(key) });
      }
    } while (cursor !== '0');
    return out;
  }

  it("is read on another process exactly as on its own, and leaves no student key in Redis (every key with a TTL)", async () => {
    const a = await gateway();
    const b = await gateway();
    const keys = roster('kruis', 50);
    const started = await a.admin.post(JOBS, { supplier: 'uitgever-a', studentKeys: keys, groupKeys: ['8a'] });
    expect(started.status).toBe(202);
    const path = `${JOBS}/${started.body.id}`;
    const onB = await waitForJob(b.admin, path);
    expect(onB).toMatchObject({ id: started.body.id, status: 'done', total: 50, done: 50 });
    expect((await a.admin.get(path)).body).toEqual(onB);
    const resultB = await b.admin.get(`${path}/result`);
    expect(resultB.status).toBe(200);
    expect(resultB.body.students).toHaveLength(50);
    expect(resultB.body).toEqual((await a.admin.get(`${path}/result`)).body);

    const contents = await redisContents();
    expect(contents.map((c) => c.key)).toEqual(expect.arrayContaining([`${prefix}resjob:${started.body.id}`, `${prefix}resjob:${started.body.id}:result`]));
    // The pupils' roots are cached (pre-warmed), under HMAC keys.
    expect(contents.filter((c) => c.key.startsWith(`${prefix}root:`)).length).toBeGreaterThanOrEqual(50);
    expect(contents.filter((c) => c.pttl <= 0)).toEqual([]);
    for (const key of keys) expect(contents.filter((c) => c.key.includes(key) || c.value.includes(key))).toEqual([]);
  });

  it('reads as failed (interrupted) once the process running it has shut down', async () => {
    const a = await gateway();
    const b = await gateway();
    const started = await a.admin.post(JOBS, { supplier: 'uitgever-a', studentKeys: roster('stop', 3000) });
    expect(started.status).toBe(202);
    await a.gw.close();
    const job = (await b.admin.get(`${JOBS}/${started.body.id}`)).body;
    expect(job).toMatchObject({ status: 'failed', reason: 'interrupted', total: 3000, finishedAt: expect.any(String) });
    expect(job.done).toBeLessThan(3000);
    const result = await b.admin.get(`${JOBS}/${started.body.id}/result`);
    expect({ status: result.status, type: result.body.type }).toEqual({ status: 409, type: 'urn:pgw:problem:job_failed' });
  });

  describe('a process that dies mid-job', () => {
    let dir: string;
    let child: GatewayProcess | undefined;
    afterAll(async () => {
      child?.kill('SIGKILL');
      await child?.exited;
      await rm(dir, { recursive: true, force: true });
    });

    it('leaves a job that reads as running until its heartbeat is stale, then as failed (interrupted)', async () => {
      dir = await mkdtemp(join(tmpdir(), 'pgw-jobs-'));
      await writeFile(join(dir, 'seed.json'), JSON.stringify(world.seed));
      const port = await freePort();
      child = await startProcess('src/main.ts', {
        ...EMBEDDED_ENV, PORT: String(port), ISSUER: `http://127.0.0.1:${port}`, DATA_DIR: dir, SEED_FILE: join(dir, 'seed.json'),
        REDIS_URL: redisUrl(), REDIS_KEY_PREFIX: prefix, OPERATOR_BOOTSTRAP_TOKEN: BOOTSTRAP, PSEUDONYM_MASTER_KEY: master.toString('base64'),
        PSEUDONYM_SCRYPT_N: String(TEST_SCRYPT.N), LOG_LEVEL: 'info',
      }, ['--import', 'tsx']);
      const started = await adminClient(`http://127.0.0.1:${port}`, BOOTSTRAP).post(JOBS, { supplier: 'uitgever-a', studentKeys: roster('crash', 20_000) });
      expect(started.status).toBe(202);
      child.kill('SIGKILL');
      await child.exited;

      const reader = await gateway(readerClock);
      const path = `${JOBS}/${started.body.id}`;
      expect((await reader.admin.get(path)).body).toMatchObject({ status: 'running', total: 20_000 });
      readerClock.advance(STALE_AFTER_MS + 1_000);
      const stale = (await reader.admin.get(path)).body;
      expect(stale).toMatchObject({ status: 'failed', reason: 'interrupted', total: 20_000, finishedAt: expect.any(String) });
      expect(stale.done).toBeLessThan(20_000);
      expect((await reader.admin.get(`${path}/result`)).status).toBe(409);
    }, 60_000);
  });
});
