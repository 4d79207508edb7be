// Baseline login benchmark: oidc-provider's own complete authorization-code
// flow, in a child process, driven from this one.
//   npx tsx bench/baseline/run.ts
// Exits non-zero, with the reason, if any login fails.
import { fileURLToPath } from 'node:url';
import { exportJWK, generateKeyPair } from 'jose';
import { startServer } from '../lib/child.js';
import { runAtRate, runLoad } from '../lib/load.js';
import type { LoadResult } from '../lib/load.js';
import { makeBaselineLogin, smokeBaseline } from './oidc-provider-client.js';

const CONCURRENCY = 16;
const WARMUP_MS = 2_000;
const DURATION_MS = 10_000;

const round1 = (x: number): number => Math.round(x * 10) / 10;

function assertNoErrors(phase: string, result: LoadResult): void {
  if (result.errors > 0 || result.count === 0) {
    throw new Error(`${phase}: ${result.count} logins, ${result.errors} errors; first: ${result.firstError ?? 'none'}`);
  }
}

async function main(): Promise<void> {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const clientJwk = { ...(await exportJWK(publicKey)), alg: 'ES256', use: 'sig' };
  const server = await startServer(
    // The resolved path of tsx lets this run from any working directory.
    [process.execPath, '--import', import.meta.resolve('tsx'), fileURLToPath(new URL('oidc-provider-server.ts', import.meta.url))],
    { BENCH_CLIENT_JWK: JSON.stringify(clientJwk) },
  );
  try {
    await smokeBaseline(server.url, privateKey);
    const idleRss = server.rssMb();
    const login = makeBaselineLogin(server.url, privateKey);

    const peak = await runLoad(login, { concurrency: CONCURRENCY, durationMs: DURATION_MS, warmupMs: WARMUP_MS });
    assertNoErrors('closed loop', peak);
    const peakRss = server.peakRssMb();

    const half = await runAtRate(login, { rate: peak.rate / 2, durationMs: DURATION_MS });
    assertNoErrors('open loop', half);

    // VmHWM never decreases, so the second row's peak covers the whole run.
    const rows = [
      { phase: `closed loop, ${CONCURRENCY} workers`, result: peak, rssMb: peakRss, dropped: 0 },
      { phase: `open loop at ${Math.round(peak.rate / 2)}/s`, result: half, rssMb: server.peakRssMb(), dropped: half.dropped },
    ];
    console.log(
      `oidc-provider baseline (${server.url}, pid ${server.pid}), ${DURATION_MS / 1000} s per phase,` +
        ` server RSS before load ${round1(idleRss)} MB`,
    );
    console.table(
      rows.map(({ phase, result, rssMb, dropped }) => ({
        phase,
        'logins/s': Math.round(result.rate),
        logins: result.count,
        dropped,
        'p50 ms': round1(result.p50),
        'p99 ms': round1(result.p99),
        'max ms': round1(result.max),
        'peak RSS MB': round1(rssMb),
      })),
    );
  } finally {
    await server.stop();
  }
}

main().catch((err: unknown) => {
  console.error(`baseline benchmark failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
