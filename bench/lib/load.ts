// Load drivers for the login benchmarks. Both call a `login()` that performs
// one complete login and throws on failure; latencies are in milliseconds.

export interface LoadResult {
  /** Successful logins in the measured window. */
  count: number;
  /** Failed logins in the measured window. */
  errors: number;
  firstError?: string;
  /** Length of the measured window. */
  seconds: number;
  /** Successful logins per second. */
  rate: number;
  p50: number;
  p99: number;
  max: number;
}

export interface ClosedLoopOptions {
  concurrency: number;
  durationMs: number;
  /** Logins started before this much time has passed are not measured (JIT, pools, caches). */
  warmupMs?: number;
  /** Upper bound on measured logins, on top of the time bound. */
  maxRequests?: number;
}

export interface OpenLoopOptions {
  /** Arrivals per second. */
  rate: number;
  durationMs: number;
  /** Arrivals that find this many logins in flight are dropped, not queued, so memory stays bounded. */
  maxInFlight?: number;
}

export interface OpenLoopResult extends LoadResult {
  dropped: number;
}

/** Nearest-rank percentile of an ascending array: an actual sample, no interpolation. */
function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

class Recorder {
  readonly #latencies: number[] = [];
  #errors = 0;
  #firstError: string | undefined;

  /** Runs one login and records its outcome; its latency counts from `since`. */
  async measure(login: () => Promise<void>, since: number): Promise<void> {
    try {
      await login();
      this.#latencies.push(performance.now() - since);
    } catch (err) {
      this.#errors++;
      this.#firstError ??= err instanceof Error ? err.message : String(err);
    }
  }

  result(seconds: number): LoadResult {
    const sorted = Float64Array.from(this.#latencies).sort();
    const count = sorted.length;
    return {
      count,
      errors: this.#errors,
      ...(this.#firstError === undefined ? {} : { firstError: this.#firstError }),
      seconds,
      rate: seconds > 0 ? count / seconds : 0,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      max: count > 0 ? sorted[count - 1]! : Number.NaN,
    };
  }
}

/**
 * Closed loop: `concurrency` workers each run logins back to back, which finds
 * the peak rate. A login is measured when it starts after the warm-up; the
 * window runs from the end of the warm-up until the last measured login ends.
 */
export async function runLoad(login: () => Promise<void>, opts: ClosedLoopOptions): Promise<LoadResult> {
  const { concurrency, durationMs, warmupMs = 0, maxRequests = Number.POSITIVE_INFINITY } = opts;
  const recorder = new Recorder();
  const measureFrom = performance.now() + warmupMs;
  const stopAt = measureFrom + durationMs;
  let started = 0;
  let lastEnd = measureFrom;

  const worker = async (): Promise<void> => {
    for (let now = performance.now(); now < stopAt && started < maxRequests; now = performance.now()) {
      if (now < measureFrom) {
        // Not recorded, failures included: a broken server fails the measured logins too.
        await login().catch(() => undefined);
        continue;
      }
      started++;
      await recorder.measure(login, now);
      lastEnd = Math.max(lastEnd, performance.now());
    }
  };

  await Promise.all(Array.from({ length: concurrency }, worker));
  return recorder.result((lastEnd - measureFrom) / 1000);
}

/**
 * Open loop: logins arrive on a fixed schedule whatever the server does, which
 * is how real users behave. Latency counts from the scheduled arrival, not the
 * actual start, so a late generator or a slow server cannot hide queueing
 * ("coordinated omission"). The number of arrivals is fixed: rate × duration.
 */
export async function runAtRate(login: () => Promise<void>, opts: OpenLoopOptions): Promise<OpenLoopResult> {
  const { rate, durationMs, maxInFlight = 256 } = opts;
  if (!(rate > 0)) throw new RangeError(`rate must be positive, got ${rate}`);
  const recorder = new Recorder();
  const interval = 1000 / rate;
  const total = Math.floor((rate * durationMs) / 1000);
  const inFlight = new Set<Promise<void>>();
  let issued = 0;
  let dropped = 0;
  let lastEnd = performance.now();
  const start = lastEnd;

  const arrive = (scheduled: number): void => {
    if (inFlight.size >= maxInFlight) {
      dropped++;
      return;
    }
    const run = recorder.measure(login, scheduled).then(() => {
      inFlight.delete(run);
      lastEnd = Math.max(lastEnd, performance.now());
    });
    inFlight.add(run);
  };

  await new Promise<void>((resolve) => {
    // Timers are coarse (≥1 ms), so each tick launches every arrival that is due.
    const tick = (): void => {
      const now = performance.now();
      while (issued < total && start + issued * interval <= now) {
        arrive(start + issued * interval);
        issued++;
      }
      if (issued < total) setTimeout(tick, start + issued * interval - now);
      else resolve();
    };
    tick();
  });
  await Promise.all(inFlight);
  return { ...recorder.result((lastEnd - start) / 1000), dropped };
}
