// The first school day after the summer (docs/pseudonyms.md, "The shared root
// cache"): warm logins at a steady rate, first alone, then while 32 cold
// logins (pupils whose root is in no cache: one scrypt each) are kept in
// flight. Rounds alternate the two so the machine's drift touches both.
// What the cold logins got is tallied: a login, or 503 at once past
// PSEUDONYM_SCRYPT_QUEUE; the longest of them shows none hung.
import { makeGatewayLogin, type BenchWorld } from '../gateway-client.js';
import { runAtRate, type LoadResult } from './load.js';
import { check } from './measure.js';

export const COLD_IN_FLIGHT = 32;

export interface ColdTally {
  logins: number;
  refused503: number;
  otherErrors: number;
  firstOther?: string;
  longestMs: number;
}

export interface StormRound {
  readonly alone: LoadResult;
  readonly beside: LoadResult;
  readonly cold: ColdTally;
}

/** Keep `inFlight` cold logins going until `until`; every pupil key is new, so every login needs a scrypt. */
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

/** `rounds` rounds of warm logins (`warmLogin`, at `rate`) alone and beside the cold storm, `seconds` each. */
export async function measureColdStorm(world: BenchWorld, warmLogin: () => Promise<void>, opts: { rate: number; seconds: number; rounds: number }): Promise<StormRound[]> {
  let next = 0;
  const cold = makeGatewayLogin(world, () => `storm-${process.pid}-${Date.now()}-${next++}`);
  try {
    const rounds: StormRound[] = [];
    for (let i = 0; i < opts.rounds; i++) {
      const alone = check('warm alone', await runAtRate(warmLogin, { rate: opts.rate, durationMs: opts.seconds * 1000 }));
      const [beside, storm] = await Promise.all([
        runAtRate(warmLogin, { rate: opts.rate, durationMs: opts.seconds * 1000 }),
        coldStorm(cold.login, COLD_IN_FLIGHT, Date.now() + opts.seconds * 1000),
      ]);
      rounds.push({ alone, beside: check('warm beside the cold storm', beside), cold: storm });
    }
    return rounds;
  } finally {
    await cold.close();
  }
}
