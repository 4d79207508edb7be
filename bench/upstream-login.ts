// npm run bench (second part): the upstream-OpenID login beside the assertion
// login, on one gateway in one run. The gateway (production build, Redis,
// PostgreSQL) has the bench school that signs assertions and a school that
// logs in at its own OpenID provider (oidc-provider, support/upstream-idp.ts,
// in a process of its own) with a required roster of the same pupils,
// imported through the admin API. The control is the floor
// (bench/floor/server.ts), measured in the same rounds: the per-login figures
// are given as ratios against it, so the machine's speed drops out.
//   BENCH_SECONDS=10 (per phase)   REDIS_URL, DATABASE_URL (defaults: the local ones)
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../support/net.js';
import { freshPgDatabase } from '../support/pg.js';
import { cyclingPupils, makeGatewayLogin } from './gateway-client.js';
import { startServer, type ServerHandle } from './lib/child.js';
import { openFloor } from './lib/floor.js';
import { buildProduction, REDIS_URL, requireRedis, startBenchGateway } from './lib/gateway.js';
import { check, measurePeak, type Peak } from './lib/measure.js';
import { runLoad } from './lib/load.js';
import { makeUpstreamLogin } from './upstream/upstream-client.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONCURRENCY = 16;
const PUPILS = 500;
const ROUNDS = 3;
const UPSTREAM_SCHOOL = '56EF';
/** The client of startBenchGateway's world, licensed at the upstream school too (named before the gateway starts). */
const BENCH_CLIENT = 'bench-app';
const tsx = import.meta.resolve('tsx');

const median = (rounds: number[]): number => [...rounds].sort((a, b) => a - b)[Math.floor(rounds.length / 2)]!;

interface Round {
  assertion: Peak;
  upstream: Peak;
  floor: Peak;
  /** The upstream provider's own CPU per upstream login, ms. */
  providerMs: number;
}

async function importRoster(url: string, token: string): Promise<void> {
  const people = Array.from({ length: PUPILS }, (_, i) => ({
    studentKey: `pupil-${i}`, logins: [`upstream-${i}`], role: 'student', groups: [{ key: '8a', name: 'Groep 8A', grade: 8 }],
  }));
  const res = await fetch(`${url}/admin/v1/schools/${UPSTREAM_SCHOOL}/roster`, {
    method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ people }),
  });
  if (res.status !== 200) throw new Error(`roster import: ${res.status} ${await res.text()}`);
}

async function main() {
  await requireRedis();
  buildProduction();
  const dir = await mkdtemp(join(tmpdir(), 'pgw-bench-upstream-'));
  const database = await freshPgDatabase();
  const port = await freePort();
  const secret = randomBytes(24).toString('base64url');
  const token = randomBytes(32).toString('base64url');
  const provider: ServerHandle = await startServer(
    [process.execPath, '--import', tsx, fileURLToPath(new URL('upstream/provider-server.ts', import.meta.url))],
    { BENCH_ACCOUNTS: String(PUPILS), BENCH_REDIRECT_URI: `http://127.0.0.1:${port}/school/oidc/callback`, BENCH_CLIENT_SECRET: secret },
  );
  const { server, world } = await startBenchGateway(dir, database.url, {
    port,
    env: { OPERATOR_BOOTSTRAP_TOKEN: token },
    more: {
      schools: [{ id: UPSTREAM_SCHOOL, name: 'Bench School (own OpenID provider)', roster: 'required',
        login: { kind: 'oidc', issuer: provider.url, clientId: 'bench-gateway', clientSecret: secret, identityClaim: 'sub', require: { tid: 'bench-tenant' } } }],
      licences: [{ school: UPSTREAM_SCHOOL, client: BENCH_CLIENT, claims: ['school', 'grade', 'groups'] }],
    },
  });
  const floor = await openFloor(PUPILS);
  const assertion = makeGatewayLogin(world, cyclingPupils(PUPILS));
  const upstream = makeUpstreamLogin({ ...world, upstreamIssuer: provider.url, upstreamSchoolId: UPSTREAM_SCHOOL }, PUPILS);
  const assertionLogin = () => assertion.login().then(() => undefined);
  try {
    await importRoster(world.url, token);
    await upstream.smoke();
    await floor.login();
    // Every pupil once by each way in: roots cached, roster answers cached, ledger rows written. The first
    // pass derives every root (scrypt, one core's worth at a time): few workers, so none waits past its timeout.
    check('warm-up assertion', await runLoad(assertionLogin, { concurrency: 2, durationMs: 600_000, maxRequests: PUPILS }));
    check('warm-up upstream', await runLoad(upstream.login, { concurrency: CONCURRENCY, durationMs: 300_000, maxRequests: PUPILS }));
    const rounds: Round[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const a = await measurePeak(server, assertionLogin, CONCURRENCY, SECONDS);
      const providerBefore = provider.cpuSeconds();
      const u = await measurePeak(server, upstream.login, CONCURRENCY, SECONDS);
      // measurePeak's 2 s warm-up runs logins too: the provider's CPU is divided over both.
      const providerMs = (1000 * (provider.cpuSeconds() - providerBefore)) / (u.count + Math.round(u.rate * 2));
      const f = await measurePeak(floor.server, floor.login, CONCURRENCY, SECONDS);
      rounds.push({ assertion: a, upstream: u, floor: f, providerMs });
    }
    report(rounds, server.peakRssMb(), provider.peakRssMb());
  } finally {
    await assertion.close();
    await upstream.close();
    await floor.close();
    await server.stop();
    await provider.stop();
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  }
}

function report(rounds: Round[], gatewayRss: number, providerRss: number): void {
  const m = (pick: (r: Round) => number) => median(rounds.map(pick));
  const cpuMs = (p: Peak) => 1000 / p.perCpuSecond;
  const rows = [
    { login: 'assertion (school signs the gateway\'s assertion)', rate: m((r) => r.assertion.rate), cpu: m((r) => cpuMs(r.assertion)), p99: m((r) => r.assertion.p99),
      rateRatio: m((r) => r.assertion.rate / r.floor.rate), cpuRatio: m((r) => cpuMs(r.assertion) / cpuMs(r.floor)) },
    { login: 'upstream OpenID (code flow at the school\'s provider, roster)', rate: m((r) => r.upstream.rate), cpu: m((r) => cpuMs(r.upstream)), p99: m((r) => r.upstream.p99),
      rateRatio: m((r) => r.upstream.rate / r.floor.rate), cpuRatio: m((r) => cpuMs(r.upstream) / cpuMs(r.floor)) },
    { login: 'floor (control)', rate: m((r) => r.floor.rate), cpu: m((r) => cpuMs(r.floor)), p99: m((r) => r.floor.p99), rateRatio: 1, cpuRatio: 1 },
  ];
  console.log(`Upstream-OpenID login beside the assertion login: ${SECONDS} s per phase, ${CONCURRENCY} workers, ${ROUNDS} rounds (medians), loopback, Redis at ${REDIS_URL}, PostgreSQL ledger, ${PUPILS} pupils warm`);
  console.table(rows.map((r) => ({
    login: r.login, 'logins/s': Math.round(r.rate), 'gateway CPU ms/login': r.cpu.toFixed(2), 'p99 ms': r.p99.toFixed(1),
    'logins/s vs floor': r.rateRatio.toFixed(2), 'CPU/login vs floor': r.cpuRatio.toFixed(2),
  })));
  console.log(`upstream / assertion in the same rounds: logins/s ${m((r) => r.upstream.rate / r.assertion.rate).toFixed(2)}, gateway CPU per login ${m((r) => cpuMs(r.upstream) / cpuMs(r.assertion)).toFixed(2)}`);
  console.log(`the upstream provider (oidc-provider, its own process): ${m((r) => r.providerMs).toFixed(2)} ms CPU per upstream login, peak RSS ${providerRss.toFixed(1)} MB; gateway peak RSS ${gatewayRss.toFixed(1)} MB`);
  console.log(`rounds, logins/s assertion/upstream/floor: ${rounds.map((r) => `${Math.round(r.assertion.rate)}/${Math.round(r.upstream.rate)}/${Math.round(r.floor.rate)}`).join('; ')}`);
}

main().catch((err: unknown) => {
  console.error(`benchmark failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
