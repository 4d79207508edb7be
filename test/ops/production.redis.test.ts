import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fullLogin, get } from '../helpers/browser.js';
import { composeEnvironment, dockerfile, interpolate } from '../helpers/deploy-files.js';
import { makeWorld, PUPIL, REKEN_CB, type World } from '../helpers/fixture.js';
import { freePort } from '../helpers/net.js';
import { buildDist, logEntries, startProcess, type GatewayProcess } from '../helpers/process-gateway.js';
import { parseExposition, valueOf } from '../helpers/prometheus.js';
import { TestPublisher } from '../helpers/publisher.js';
import { DisposableRedis } from '../helpers/redis-server.js';

// Container: no Docker engine runs here, so this runs what the image
// runs -- `node dist/main.js` from a fresh `tsc` build -- with exactly the
// environment the Dockerfile and docker-compose.yml give it, against a Redis
// started as compose starts it (noeviction, a password). Only loopback
// addresses and the services' hosts and ports are swapped for local ones.

const run = promisify(execFile);

describe('the production build with the compose environment', () => {
  let build: Awaited<ReturnType<typeof buildDist>>;
  let redis: DisposableRedis;
  let world: World;
  let gateway: GatewayProcess;
  let url: string;
  let metricsUrl: string;
  let database: string;
  let env: Record<string, string>;
  const masterKey = randomBytes(32).toString('base64');
  const redisPassword = randomBytes(12).toString('hex');

  beforeAll(async () => {
    [build, redis, world] = await Promise.all([buildDist(), DisposableRedis.start(['--maxmemory', '64mb', '--maxmemory-policy', 'noeviction', '--requirepass', redisPassword]), makeWorld()]);
    // A database of its own, so DATABASE_URL points somewhere real once the PostgreSQL store reads it.
    database = `pgw_prod_${randomBytes(4).toString('hex')}`;
    await run('createdb', ['-h', '127.0.0.1', '-U', 'postgres', database]);
    const dir = await mkdtemp(join(tmpdir(), 'pgw-prod-'));
    await writeFile(join(dir, 'seed.json'), JSON.stringify(world.seed));
    const [port, metricsPort] = [await freePort(), await freePort()];
    url = `http://127.0.0.1:${port}`;
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    const secrets = { ISSUER: url, POSTGRES_PASSWORD: 'unused', REDIS_PASSWORD: redisPassword, PSEUDONYM_MASTER_KEY: masterKey, SEED_FILE: join(dir, 'seed.json') };
    const compose = Object.fromEntries(Object.entries(composeEnvironment('gateway')).map(([k, v]) => [k, interpolate(v, secrets)]));
    env = {
      ...dockerfile().env,
      ...compose,
      // Loopback instead of the container's 0.0.0.0, and the local services instead of compose's host names.
      HOST: '127.0.0.1',
      PORT: String(port),
      METRICS_HOST: '127.0.0.1',
      METRICS_PORT: String(metricsPort),
      // Compose's URL, with its password, to the local Redis.
      REDIS_URL: compose.REDIS_URL!.replace('@redis:6379', `@127.0.0.1:${redis.port}`),
      DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${database}`,
      DATA_DIR: join(dir, 'data'),
      // Cheap pseudonyms for the test; the production default is covered by the vectors test.
      PSEUDONYM_SCRYPT_N: '1024',
    };
    expect(env.NODE_ENV).toBe('production');
    gateway = await startProcess(build.main, env);
  }, 90_000);
  afterAll(async () => {
    if (gateway && gateway.child.exitCode === null) {
      gateway.kill('SIGKILL');
      await gateway.exited;
    }
    await redis?.down();
    if (database) await run('dropdb', ['-h', '127.0.0.1', '-U', 'postgres', '--if-exists', database]);
    await build?.remove();
  });

  /** The image's HEALTHCHECK command, run as Docker runs it (with the container's PORT); resolves with its exit code. */
  const healthcheck = async (): Promise<number> => {
    const [command, ...args] = JSON.parse(/CMD (\[.*\])$/.exec(dockerfile().healthcheck!)![1]!) as string[];
    expect(command).toBe('node');
    return run(process.execPath, args, { env: { PORT: new URL(url).port } }).then(() => 0, (err: { code?: number }) => err.code ?? -1);
  };

  it('passes the image health check', async () => {
    expect(await healthcheck()).toBe(0);
  });

  it('is live and ready, logs its configuration with secrets masked, and serves metrics on its own port', async () => {
    expect((await get(`${url}/healthz`)).status).toBe(200);
    const ready = await get(`${url}/readyz`);
    expect({ status: ready.status, body: await ready.json() }).toEqual({ status: 200, body: { status: 'ready', checks: { kv: 'ok', snapshot: 'ok', database: 'ok' } } });
    const config = logEntries(gateway).find((e) => e.msg === 'configuration')?.config as Record<string, unknown>;
    expect(config).toMatchObject({ NODE_ENV: 'production', PSEUDONYM_MASTER_KEY: '***' });
    expect(gateway.lines.join('\n')).not.toContain(masterKey);
    const metrics = await get(metricsUrl);
    expect(metrics.status).toBe(200);
    expect(parseExposition(await metrics.text()).types.get('pgw_http_request_duration_seconds')).toBe('histogram');
  });

  it('logs a pupil in end to end with a certified relying party', async () => {
    const jwks = (await (await get(`${url}/jwks.json`)).json()) as { keys: object[] };
    const reken = await TestPublisher.create(url, 'rekenapp', REKEN_CB, { key: world.rekenKey });
    const { tokens, claims } = await fullLogin({ url, signing: { jwks } }, world.regenboog, reken, PUPIL);
    const { payload } = await jwtVerify(tokens.id_token!, createLocalJWKSet(jwks as never), { issuer: url, audience: 'rekenapp' });
    expect(payload.sub).toBe(claims.sub);
    expect(payload.school).toBe('12AB');
    const metrics = parseExposition(await (await get(metricsUrl)).text());
    expect(valueOf(metrics, 'pgw_login_outcomes_total', { step: 'token', outcome: 'success' })).toBe(1);
  });

  it('runs the operator CLI from the same build and environment (docker compose exec gateway node dist/cli.js ...)', async () => {
    const jwks = (await (await get(`${url}/jwks.json`)).json()) as { keys: Array<{ kid: string }> };
    const { stdout } = await run(process.execPath, [build.main.replace(/main\.js$/, 'cli.js'), 'keys', 'list'], { env });
    expect(stdout).toContain(jwks.keys[0]!.kid);
  });

  it('stops on SIGTERM with exit code 0, after which the health check fails', async () => {
    gateway.kill('SIGTERM');
    expect(await gateway.exited).toBe(0);
    expect(await healthcheck()).toBe(1);
    expect(logEntries(gateway).map((e) => e.msg)).toContain('closed: in-flight requests answered, connections and stores closed');
  });
});
