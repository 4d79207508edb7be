// npm run bench: the gateway's full login (authorize -> assertion -> token) on
// a warm pseudonym cache with Redis, the cold-login cost, and panva's
// oidc-provider running its own complete code flow on the same machine.
// Both servers run as child processes; this process generates the load.
//   BENCH_SECONDS=10 (per phase)   BENCH_SOAK_SECONDS=600 (optional RSS soak)
//   BENCH_CPU_PROF=dir (optional: the gateway writes a V8 CPU profile there on exit)
//   REDIS_URL, DATABASE_URL (defaults: the local Redis and PostgreSQL)
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportJWK, generateKeyPair } from 'jose';
import { Redis } from 'ioredis';
import { makeBaselineLogin, smokeBaseline } from './baseline/oidc-provider-client.js';
import { measureLoginCrypto } from './crypto.js';
import { makeGatewayLogin, smokeGateway, type BenchWorld } from './gateway-client.js';
import { startServer, type ServerHandle } from './lib/child.js';
import { runAtRate, runLoad, type LoadResult } from './lib/load.js';
import { freePort } from '../test/helpers/net.js';
import { freshPgDatabase } from '../test/helpers/db.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const SOAK_SECONDS = Number(process.env.BENCH_SOAK_SECONDS ?? 0);
const CPU_PROF_DIR = process.env.BENCH_CPU_PROF;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
// As in production: PostgreSQL beside Redis (a fresh database of its own, dropped after), not embedded PGlite.
process.env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/test';
const CONCURRENCY = 16;
const PUPILS = 500;
const COLD_LOGINS = 20;
// Further clients of the same supplier and licence: a login at one of them is a new ledger row for a warm pupil.
const LEDGER_CLIENTS = 24;
const tsx = import.meta.resolve('tsx');
const round1 = (x: number) => Math.round(x * 10) / 10;
const RATE_LIMITS = ['RATE_LIMIT_TOKEN_PER_MIN', 'RATE_LIMIT_TOKEN_IP_PER_MIN', 'RATE_LIMIT_ASSERTION_PER_MIN', 'RATE_LIMIT_ASSERTION_ISSUER_PER_MIN'];

function check(phase: string, r: LoadResult): LoadResult {
  if (r.errors > 0 || r.count === 0) throw new Error(`${phase}: ${r.count} logins, ${r.errors} errors; first: ${r.firstError ?? 'none'}`);
  return r;
}


async function startGateway(dir: string, databaseUrl: string): Promise<{ server: ServerHandle; world: BenchWorld }> {
  const school = await generateKeyPair('ES256', { extractable: true });
  const client = await generateKeyPair('ES256', { extractable: true });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const world: BenchWorld = {
    url, clientId: 'bench-app', redirectUri: 'https://bench-app.example/cb',
    clientKey: client.privateKey, clientKid: 'bench-client', schoolId: '12AB',
    schoolIssuer: 'https://idp.bench-school.example', schoolKey: school.privateKey, schoolKid: 'bench-school',
  };
  const seed = {
    schools: [{ id: '12AB', name: 'Bench School', issuer: world.schoolIssuer, loginUrl: `${world.schoolIssuer}/login`,
      jwks: { keys: [{ ...(await exportJWK(school.publicKey)), kid: world.schoolKid, alg: 'ES256', use: 'sig' }] } }],
    suppliers: [{ id: 'bench-supplier', name: 'Bench Supplier' }],
    clients: [{ clientId: world.clientId, supplier: 'bench-supplier', name: 'Bench App', redirectUris: [world.redirectUri],
      jwks: { keys: [{ ...(await exportJWK(client.publicKey)), kid: world.clientKid, alg: 'ES256', use: 'sig' }] },
      claims: ['school', 'role', 'grade', 'groups'] }],
    licences: [{ school: '12AB', client: world.clientId, claims: ['school', 'grade', 'groups'] }],
  };
  for (let i = 1; i <= LEDGER_CLIENTS; i++) {
    seed.clients.push({ ...seed.clients[0]!, clientId: `${world.clientId}-${i}` });
    seed.licences.push({ ...seed.licences[0]!, client: `${world.clientId}-${i}` });
  }
  await writeFile(join(dir, 'seed.json'), JSON.stringify(seed));
  const server = await startServer(
    // The production path: tsc output run by node, as the container runs it.
    [process.execPath, ...(CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF_DIR}`] : []), fileURLToPath(new URL('../dist/main.js', import.meta.url))],
    {
      PORT: String(port), HOST: '127.0.0.1', ISSUER: url, DATA_DIR: dir, SEED_FILE: join(dir, 'seed.json'), REDIS_URL, DATABASE_URL: databaseUrl, LOG_LEVEL: 'info', NODE_ENV: 'development',
      // All load comes from one loopback address: the limits still count every request (their cost is measured), but never refuse.
      ...Object.fromEntries(RATE_LIMITS.map((name) => [name, '10000000'])),
    },
    /^.*"issuer":"(http:\/\/127\.0\.0\.1:\d+)".*"msg":"gateway ready".*\r?\n/m,
  );
  return { server, world };
}

async function measureGateway() {
  const dir = await mkdtemp(join(tmpdir(), 'pgw-bench-'));
  const database = await freshPgDatabase();
  const { server, world } = await startGateway(dir, database.url);
  let next = 0;
  const pupil = () => `pupil-${next++ % PUPILS}`;
  const { login, close } = makeGatewayLogin(world, pupil);
  try {
    await smokeGateway(world, login);
    const idleRss = server.rssMb();
    // Cold: pupils never seen (scrypt runs), one at a time; then the same number warm.
    let cold = 0;
    const coldPupil = makeGatewayLogin(world, () => `cold-${process.pid}-${Date.now()}-${cold++}`);
    const coldRun = check('cold', await runLoad(() => coldPupil.login().then(() => undefined), { concurrency: 1, durationMs: 60_000, maxRequests: COLD_LOGINS }));
    await coldPupil.close();
    const warmAll = check('warm-up', await runLoad(() => login().then(() => undefined), { concurrency: CONCURRENCY, durationMs: 300_000, maxRequests: PUPILS }));
    const warmSeq = check('warm sequential', await runLoad(() => login().then(() => undefined), { concurrency: 1, durationMs: 60_000, maxRequests: COLD_LOGINS }));
    const peak = await measurePeak(server, () => login().then(() => undefined));
    // First releases of the day: every login a new (pupil, client) ledger row, written (group-committed) before the code.
    let fresh = 0;
    const firstRelease = makeGatewayLogin(world, () => {
      const i = fresh++;
      if (i >= PUPILS * LEDGER_CLIENTS) throw new Error('ran out of new (pupil, client) pairs: raise LEDGER_CLIENTS');
      return { pupil: `pupil-${i % PUPILS}`, clientId: `${world.clientId}-${1 + Math.floor(i / PUPILS)}` };
    });
    const newRows = check('first releases', await runLoad(() => firstRelease.login().then(() => undefined), { concurrency: CONCURRENCY, durationMs: SECONDS * 1000, maxRequests: PUPILS * LEDGER_CLIENTS }));
    await firstRelease.close();
    const half = check('half rate', await runAtRate(() => login().then(() => undefined), { rate: peak.rate / 2, durationMs: SECONDS * 1000 }));
    let soak: { samples: number[] } | undefined;
    if (SOAK_SECONDS > 0) soak = await runSoak(server, () => login().then(() => undefined), peak.rate / 2);
    return { idleRss, peakRss: server.peakRssMb(), coldRun, warmSeq, warmAll, peak, newRows, half, soak };
  } finally {
    await close();
    await server.stop();
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The closed-loop peak, with the server's own CPU time: logins per CPU-second is the per-core figure. */
async function measurePeak(server: ServerHandle, login: () => Promise<void>): Promise<LoadResult & { perCpuSecond: number; cpuShare: number }> {
  await runLoad(login, { concurrency: CONCURRENCY, durationMs: 2000 });
  const cpuBefore = server.cpuSeconds();
  const result = check('peak', await runLoad(login, { concurrency: CONCURRENCY, durationMs: SECONDS * 1000 }));
  const cpu = server.cpuSeconds() - cpuBefore;
  return { ...result, perCpuSecond: result.count / cpu, cpuShare: cpu / result.seconds };
}

async function runSoak(server: ServerHandle, login: () => Promise<void>, rate: number) {
  const samples: number[] = [];
  const timer = setInterval(() => samples.push(round1(server.rssMb())), 10_000);
  try {
    check('soak', await runAtRate(login, { rate, durationMs: SOAK_SECONDS * 1000 }));
  } finally {
    clearInterval(timer);
  }
  return { samples };
}

async function measureBaseline() {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const server = await startServer(
    [process.execPath, '--import', tsx, fileURLToPath(new URL('baseline/oidc-provider-server.ts', import.meta.url))],
    { BENCH_CLIENT_JWK: JSON.stringify({ ...(await exportJWK(publicKey)), alg: 'ES256', use: 'sig' }) },
  );
  try {
    await smokeBaseline(server.url, privateKey);
    const login = makeBaselineLogin(server.url, privateKey);
    const peak = await measurePeak(server, login);
    const half = check('baseline half rate', await runAtRate(login, { rate: peak.rate / 2, durationMs: SECONDS * 1000 }));
    return { peak, half, peakRss: server.peakRssMb() };
  } finally {
    await server.stop();
  }
}

async function main() {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0 });
  await redis.connect().then(() => redis.ping()).catch(() => {
    throw new Error(`Redis is not reachable at ${REDIS_URL}: the benchmark measures the gateway with Redis`);
  });
  redis.disconnect();

  // The production build (tsc and the SQL migrations), as the container builds it.
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: 'inherit' });
  const cryptoMs = await measureLoginCrypto();
  const gw = await measureGateway();
  const base = await measureBaseline();
  const row = (name: string, r: LoadResult, rss?: number) => ({
    run: name, 'logins/s': Math.round(r.rate), logins: r.count, 'p50 ms': round1(r.p50), 'p99 ms': round1(r.p99), 'max ms': round1(r.max),
    ...(rss === undefined ? {} : { 'peak RSS MB': round1(rss) }),
  });
  console.log(`Full login (authorize -> school assertion -> token), ${SECONDS} s per phase, ${CONCURRENCY} workers, loopback, Redis at ${REDIS_URL}, PostgreSQL ledger`);
  console.log('The ledger is on in every gateway run: "warm" logins repeat a release already recorded today (no database write); "new ledger row" logins each write one, group-committed, before the code is handed out.');
  console.table([
    row('gateway, warm cache, peak', gw.peak, gw.peakRss),
    row(`gateway, at half peak (${Math.round(gw.peak.rate / 2)}/s)`, gw.half),
    row('gateway, every login a new ledger row', gw.newRows),
    row('oidc-provider 9, peak', base.peak, base.peakRss),
    row(`oidc-provider 9, at half peak (${Math.round(base.peak.rate / 2)}/s)`, base.half),
  ]);
  const perCore = (r: { perCpuSecond: number; cpuShare: number }) => `${Math.round(r.perCpuSecond)} logins per CPU-second (server busy ${(100 * r.cpuShare).toFixed(0)}% of one core)`;
  console.log(`gateway: ${perCore(gw.peak)}; oidc-provider: ${perCore(base.peak)}`);
  console.log(`ratio gateway / oidc-provider: ${(gw.peak.perCpuSecond / base.peak.perCpuSecond).toFixed(2)} per core, ${(gw.peak.rate / base.peak.rate).toFixed(2)} in logins/s on this 2-core machine (load generator included)`);
  console.log(`cold login (new pupil, scrypt), sequential: p50 ${round1(gw.coldRun.p50)} ms vs warm ${round1(gw.warmSeq.p50)} ms: cold cost ≈ ${round1(gw.coldRun.p50 - gw.warmSeq.p50)} ms`);
  console.log(`crypto of one warm login alone (2 ES256 verifications, 2 ES256 signatures, HMACs, sealing): ${cryptoMs.toFixed(3)} ms CPU`);
  console.log(`gateway RSS: idle ${round1(gw.idleRss)} MB, peak ${round1(gw.peakRss)} MB`);
  if (gw.soak) console.log(`soak at half peak for ${SOAK_SECONDS} s, RSS every 10 s (MB): ${gw.soak.samples.join(' ')}`);
}

main().catch((err: unknown) => {
  console.error(`benchmark failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
