// The measurements the login benchmarks share: an open-loop run with who used
// the cores, and the closed-loop peak with the server's own CPU time. Every run
// must be free of errors, or the benchmark stops.
import type { ServerHandle } from './child.js';
import { withCpuShares, type CpuShares } from './cpu.js';
import { REDIS_URL } from './gateway.js';
import { runAtRate, runLoad, type LoadResult } from './load.js';

type Login = () => Promise<void>;

/** `r` unchanged, or an error naming the phase when a login failed or none succeeded. */
export function check(phase: string, r: LoadResult): LoadResult {
  if (r.errors > 0 || r.count === 0) throw new Error(`${phase}: ${r.count} logins, ${r.errors} errors; first: ${r.firstError ?? 'none'}`);
  return r;
}

export type AtRate = LoadResult & { shares: CpuShares };

/** An open-loop run at `rate` for `seconds`, with who used the cores meanwhile. */
export async function measureAtRate(server: ServerHandle, login: Login, rate: number, seconds: number, phase: string): Promise<AtRate> {
  return withCpuShares(server, REDIS_URL, async () => check(phase, await runAtRate(login, { rate, durationMs: seconds * 1000 })));
}

export type Peak = LoadResult & { perCpuSecond: number; cpuShare: number };

/** The closed-loop peak after a 2 s warm-up, with the server's own CPU time: logins per CPU-second is the per-core figure. */
export async function measurePeak(server: ServerHandle, login: Login, concurrency: number, seconds: number): Promise<Peak> {
  await runLoad(login, { concurrency, durationMs: 2000 });
  const cpuBefore = server.cpuSeconds();
  const result = check('peak', await runLoad(login, { concurrency, durationMs: seconds * 1000 }));
  const cpu = server.cpuSeconds() - cpuBefore;
  return { ...result, perCpuSecond: result.count / cpu, cpuShare: cpu / result.seconds };
}
