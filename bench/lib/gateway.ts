// The gateway as the benchmarks run it: the production build (tsc output and
// the SQL migrations, as the container builds it) in a child process, with
// Redis and a PostgreSQL database of its own, one bench school, supplier,
// client and licence.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { exportJWK, generateKeyPair } from 'jose';
import { SamlIdp } from '../../demo/saml-idp.js';
import { cyclingPupils, makeGatewayLogin, smokeGateway, type BenchWorld } from '../gateway-client.js';
import { makeSamlLogin } from '../saml-client.js';
import { freshPgDatabase } from '../../support/pg.js';
import { freePort } from '../../support/net.js';
import { startServer, type ServerHandle } from './child.js';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
// As in production: PostgreSQL beside Redis (a fresh database of its own, dropped after), not embedded PGlite.
process.env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/test';
const RATE_LIMITS = ['RATE_LIMIT_TOKEN_PER_MIN', 'RATE_LIMIT_TOKEN_IP_PER_MIN', 'RATE_LIMIT_ASSERTION_PER_MIN', 'RATE_LIMIT_ASSERTION_ISSUER_PER_MIN', 'RATE_LIMIT_ADMIN_PER_MIN'];

/** BENCH_CPU_PROF=dir: the server writes a V8 CPU profile there when it exits. */
export const cpuProfileFlags = (): string[] => (process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []);

/** Refuse to measure without Redis: the figures are those of the gateway with Redis. */
export async function requireRedis(): Promise<void> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0 });
  await redis.connect().then(() => redis.ping()).catch(() => {
    throw new Error(`Redis is not reachable at ${REDIS_URL}: the benchmark measures the gateway with Redis`);
  });
  redis.disconnect();
}

/** `npm run build`: what the container runs. */
export function buildProduction(): void {
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: fileURLToPath(new URL('../..', import.meta.url)), stdio: 'inherit' });
}

export interface BenchGateway {
  server: ServerHandle;
  world: BenchWorld;
}

export interface BenchGatewayOptions {
  /** Added to the defaults. */
  env?: Record<string, string>;
  /** Further clients of the same supplier and licence (`bench-app-1`, …): a login at one of them is a new ledger row for a warm pupil. */
  ledgerClients?: number;
  /** A port chosen beforehand (an upstream provider must know the gateway's callback before it starts). */
  port?: number;
  /** Further schools and licences for the seed file. */
  more?: { schools: object[]; licences: object[] };
}

/** Write the bench registrations into `dir` and start `node dist/main.js` on them. */
export async function startBenchGateway(dir: string, databaseUrl: string, options: BenchGatewayOptions = {}): Promise<BenchGateway> {
  const school = await generateKeyPair('ES256', { extractable: true });
  const client = await generateKeyPair('ES256', { extractable: true });
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const world: BenchWorld = {
    url, clientId: 'bench-app', redirectUri: 'https://bench-app.example/cb',
    clientKey: client.privateKey, clientKid: 'bench-client', schoolId: '12AB',
    schoolIssuer: 'https://idp.bench-school.example', schoolKey: school.privateKey, schoolKid: 'bench-school',
    saml: { schoolId: '34CD', idp: new SamlIdp('https://idp.bench-saml.example/idp', 'https://idp.bench-saml.example/sso') },
  };
  const seed = {
    schools: [{ id: '12AB', name: 'Bench School', issuer: world.schoolIssuer, loginUrl: `${world.schoolIssuer}/login`,
      jwks: { keys: [{ ...(await exportJWK(school.publicKey)), kid: world.schoolKid, alg: 'ES256', use: 'sig' }] } } as object,
      // The same client and licence at a school behind a SAML identity provider, no roster (the uid is the pupil key).
      { id: '34CD', name: 'Bench SAML School', roster: 'none', login: { kind: 'saml', metadataXml: world.saml!.idp.metadataXml(), entityId: world.saml!.idp.entityId } }],
    suppliers: [{ id: 'bench-supplier', name: 'Bench Supplier' }],
    clients: [{ clientId: world.clientId, supplier: 'bench-supplier', name: 'Bench App', redirectUris: [world.redirectUri],
      jwks: { keys: [{ ...(await exportJWK(client.publicKey)), kid: world.clientKid, alg: 'ES256', use: 'sig' }] },
      claims: ['school', 'role', 'grade', 'groups'] }],
    licences: [{ school: '12AB', client: world.clientId, claims: ['school', 'grade', 'groups'] }, { school: '34CD', client: world.clientId, claims: ['school', 'grade', 'groups'] }],
  };
  for (let i = 1; i <= (options.ledgerClients ?? 0); i++) {
    seed.clients.push({ ...seed.clients[0]!, clientId: `${world.clientId}-${i}` });
    seed.licences.push({ ...seed.licences[0]!, client: `${world.clientId}-${i}` });
  }
  const more = options.more ?? { schools: [], licences: [] };
  await writeFile(join(dir, 'seed.json'), JSON.stringify({ ...seed, schools: [...seed.schools, ...more.schools], licences: [...seed.licences, ...more.licences] }));
  const server = await startServer(
    // The production path: tsc output run by node, as the container runs it.
    [process.execPath, ...cpuProfileFlags(), fileURLToPath(new URL('../../dist/main.js', import.meta.url))],
    {
      PORT: String(port), HOST: '127.0.0.1', ISSUER: url, DATA_DIR: dir, SEED_FILE: join(dir, 'seed.json'), REDIS_URL, DATABASE_URL: databaseUrl, LOG_LEVEL: 'info', NODE_ENV: 'development',
      // All load comes from one loopback address: the limits still count every request (their cost is measured), but never refuse.
      ...Object.fromEntries(RATE_LIMITS.map((name) => [name, '10000000'])),
      ...options.env,
    },
    /^.*"issuer":"(http:\/\/127\.0\.0\.1:\d+)".*"msg":"gateway ready".*\r?\n/m,
  );
  return { server, world };
}

/** The pupils of the SAML school the SAML logins cycle through (each cold once: fewer than the assertion school's, to keep the warm-up short). */
export const SAML_PUPILS = 100;

/** The bench gateway on a fresh PostgreSQL database and data directory, both removed by close(); its logins cycle through `pupils` pupil keys. */
export async function openBenchGateway(pupils: number, ledgerClients = 0) {
  const dir = await mkdtemp(join(tmpdir(), 'pgw-bench-'));
  const database = await freshPgDatabase();
  const { server, world } = await startBenchGateway(dir, database.url, { ledgerClients });
  const { login, close } = makeGatewayLogin(world, cyclingPupils(pupils));
  const saml = makeSamlLogin({ ...world, saml: world.saml! }, cyclingPupils(Math.min(pupils, SAML_PUPILS)));
  return {
    server, world, login: () => login().then(() => undefined), smoke: () => smokeGateway(world, login),
    samlLogin: () => saml.login().then(() => undefined),
    async close() {
      await close();
      await saml.close();
      await server.stop();
      await database.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
