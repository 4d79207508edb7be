// npm run bench:cold-storm: the first school day after the summer (docs/pseudonyms.md,
// "The shared root cache"). Warm logins at a steady rate, first alone, then
// while 32 cold logins (pupils whose root is in no cache: one scrypt each)
// are kept in flight. Reports warm p99 in both, as a ratio, and what the cold
// logins got: a login, or 503 at once past PSEUDONYM_SCRYPT_QUEUE (never a
// hang: each cold login's longest time is printed). Rounds alternate unloaded
// and loaded so the machine's drift touches both; the median round counts.
//   BENCH_SECONDS=10 (per phase)   BENCH_WARM_RATE=20 (warm logins per second)
//   REDIS_URL, DATABASE_URL (defaults: the local Redis and PostgreSQL)
import { availableParallelism } from 'node:os';
import { cyclingPupils, makeGatewayLogin } from './gateway-client.js';
import { buildProduction, openBenchGateway, requireRedis } from './lib/gateway.js';
import { runAtRate, type LoadResult } from './lib/load.js';
import { check } from './lib/measure.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARM_RATE = Number(process.env.BENCH_WARM_RATE ?? 20);
const WARM_PUPILS = 50;
const COLD_IN_FLIGHT = 32;
const ROUNDS = 3;
const round1 = (x: number) => Math.round(x * 10) / 10;

interface ColdTally {
  logins: number;
  refused503: number;
  otherErrors: number;
  firstOther?: string;
  longestMs: number;
}

/** Keep `inFlight` cold logins going until `stop` resolves; every pupil key is new, so every login needs a scrypt. */
async function coldStorm(login: () => Promise<unknown>, inFlight: number, until: number): Promise<ColdTally> {
  const tally: ColdTally = { logins: 0, refused503: 0, otherErrors: 0, longestMs: 0 };
  const worker = async () => {
    while (Date.now() < until) {
      const started = performance.now();
      try {
        await login();
        tally.logins++;
      } catch (err) {
        const message = (err as Error).message;
        // The assertion POST is where the root is derived: a full queue answers 503 there.
        if (/^POST \/school\/assertion: 503 /.test(message)) tally.refused503++;
        else {
          tally.otherErrors++;
          tally.firstOther ??= message.slice(0, 200);
        }
      }
      tally.longestMs = Math.max(tally.longestMs, performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return tally;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  await requireRedis();
  buildProduction();
  const gateway = await openBenchGateway(WARM_PUPILS);
  let coldNext = 0;
  const cold = makeGatewayLogin(gateway.world, () => `cold-${process.pid}-${coldNext++}`);
  const warmUp = makeGatewayLogin(gateway.world, cyclingPupils(WARM_PUPILS));
  try {
    await gateway.smoke();
    // Every warm pupil's root into the caches (one scrypt each), then the measured rounds.
    for (let i = 0; i < WARM_PUPILS; i++) await warmUp.login();
    const rows: { unloaded: LoadResult; loaded: LoadResult; cold: ColdTally }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const unloaded = check('warm alone', await runAtRate(gateway.login, { rate: WARM_RATE, durationMs: SECONDS * 1000 }));
      const until = Date.now() + SECONDS * 1000;
      const [loaded, storm] = await Promise.all([
        runAtRate(gateway.login, { rate: WARM_RATE, durationMs: SECONDS * 1000 }),
        coldStorm(cold.login, COLD_IN_FLIGHT, until),
      ]);
      rows.push({ unloaded, loaded: check('warm beside the cold logins', loaded), cold: storm });
      console.log(`round ${round + 1}: warm p99 alone ${round1(unloaded.p99)} ms, beside ${COLD_IN_FLIGHT} cold logins ${round1(loaded.p99)} ms `
        + `(ratio ${round1(loaded.p99 / unloaded.p99)}); cold: ${storm.logins} logged in, ${storm.refused503} refused 503, `
        + `${storm.otherErrors} other errors${storm.firstOther ? ` (${storm.firstOther})` : ''}, longest ${Math.round(storm.longestMs)} ms`);
    }
    const ratios = rows.map((r) => r.loaded.p99 / r.unloaded.p99);
    console.log(`\ncold storm (${availableParallelism()} cores, warm ${WARM_RATE}/s for ${SECONDS} s per phase, ${ROUNDS} rounds):`);
    console.log(`  warm p99 alone (median)              ${round1(median(rows.map((r) => r.unloaded.p99)))} ms`);
    console.log(`  warm p99 beside ${COLD_IN_FLIGHT} cold (median)     ${round1(median(rows.map((r) => r.loaded.p99)))} ms`);
    console.log(`  ratio (median of rounds)             ${round1(median(ratios))}x   (goal: at most 2x)`);
    console.log(`  cold logins done / refused 503 / other errors: ${rows.map((r) => `${r.cold.logins}/${r.cold.refused503}/${r.cold.otherErrors}`).join(', ')}`);
    console.log(`  longest cold login                   ${Math.round(Math.max(...rows.map((r) => r.cold.longestMs)))} ms`);
  } finally {
    await cold.close();
    await warmUp.close();
    await gateway.close();
  }
}

await main();
