// npx tsx bench/cost-by-rate.ts [gateway]: a server's CPU time per login, and
// p50/p99, at several open-loop rates and then at the closed-loop peak. The
// floor (bench/floor/server.ts) by default, the gateway (production build)
// with `gateway`. On a machine whose cores halt when idle (a VM with no
// cpuidle driver), every wake-up costs time, so a login costs more CPU at a
// low rate than at the peak, where one wake-up serves several requests: this
// shows how much, for the figures of `npm run bench` (whose ratio is taken
// at the peak and whose tail is taken at half of it).
//   BENCH_RATES=100,200,430,800 (logins/s)   BENCH_SECONDS=8 (per rate)
import { openFloor } from './lib/floor.js';
import { buildProduction, openBenchGateway, REDIS_URL, requireRedis } from './lib/gateway.js';
import { runLoad, type LoadResult } from './lib/load.js';
import { check, measureAtRate, measurePeak } from './lib/measure.js';

const RATES = (process.env.BENCH_RATES ?? '100,200,430,800').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONCURRENCY = 16;
const PUPILS = 500;
const target = process.argv[2] === 'gateway' ? 'gateway' : 'floor';

async function main() {
  if (RATES.some((r) => !(r > 0))) throw new Error(`BENCH_RATES must be positive numbers, got ${process.env.BENCH_RATES}`);
  await requireRedis();
  if (target === 'gateway') buildProduction();
  const side = target === 'gateway' ? await openBenchGateway(PUPILS) : await openFloor(PUPILS);
  try {
    // Every pupil once (the gateway's pseudonym cache is then warm), and the JIT warm.
    check('warm-up', await runLoad(side.login, { concurrency: CONCURRENCY, durationMs: 300_000, maxRequests: PUPILS }));
    await runLoad(side.login, { concurrency: CONCURRENCY, durationMs: 3000 });
    const rows = [];
    const row = (run: string, r: LoadResult, cpuShare: number, extra: Record<string, string> = {}) => ({
      run, 'logins/s': Math.round(r.rate), 'p50 ms': r.p50.toFixed(1), 'p99 ms': r.p99.toFixed(1),
      'server % of a core': (100 * cpuShare).toFixed(0), 'server CPU ms per login': ((1000 * cpuShare) / r.rate).toFixed(2), ...extra,
    });
    for (const rate of RATES) {
      const r = await measureAtRate(side.server, side.login, rate, SECONDS, `${rate}/s`);
      rows.push(row(`open loop at ${rate}/s`, r, r.shares.server, { 'load generator %': (100 * r.shares.generator).toFixed(0), 'Redis %': (100 * r.shares.redis).toFixed(0) }));
    }
    const peak = await measurePeak(side.server, side.login, CONCURRENCY, SECONDS);
    rows.push(row(`peak, ${CONCURRENCY} concurrent`, peak, peak.cpuShare));
    console.log(`${target}: CPU per login by rate, ${SECONDS} s per rate, loopback, Redis at ${REDIS_URL}`);
    console.table(rows);
  } finally {
    await side.close();
  }
}

main().catch((err: unknown) => {
  console.error(`benchmark failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
