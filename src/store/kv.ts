/**
 * The hot-state port (docs/architecture.md; its keys: src/store/kv-keys.ts). Every write carries a TTL, and the
 * single-use operations are one atomic step in every adapter: take() is GETDEL,
 * setIfAbsent() is SET NX, swap() is SET XX GET,
 * increment() is INCR with the window's PEXPIRE in one script. Every operation
 * but step() names one key, so the Redis adapter works on a Cluster without hash tags;
 * step() is one script on a single Redis and its parts one key at a time on a Cluster
 * (each part atomic either way). Adapters throw UnavailableError when the store cannot
 * answer, so callers fail closed.
 */
export interface Kv {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** Write only if the key is absent; true when this call wrote it. */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** Read and delete in one step: of concurrent callers, exactly one sees the value. */
  take(key: string): Promise<string | null>;
  /** Replace an existing value and return the old one; absent keys stay absent (null). */
  swap(key: string, value: string, ttlMs: number): Promise<string | null>;
  del(key: string): Promise<void>;
  /** Give an existing key a new TTL (PEXPIRE); true when the key was there. A sliding lifetime. */
  touch(key: string, ttlMs: number): Promise<boolean>;
  /**
   * Count `by` events (default 1) in a fixed window (rate limits): the first call
   * creates the counter with a TTL of windowMs; returns the count and the window's time left.
   */
  increment(key: string, windowMs: number, by?: number): Promise<{ count: number; ttlMs: number }>;
  /** One single-use step of a login in one round trip: see SingleUseStep. */
  step(step: SingleUseStep): Promise<StepResult>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A login's request in one round trip (docs/redis-keys.md, "Single-use steps"), in this order:
 * 1. `claim` (optional): SET NX. Already there: stop (`fresh` false), nothing else happens.
 * 2. `take`: read and delete (GETDEL), or, with `leave`, read and replace by `leave.value` when present
 *    (SET XX GET). A taken value that starts with `leave.usedPrefix` is a used marker: nothing more happens.
 * 3. Only when something live was taken: each `put` (SET NX), the taken value appended to its value when
 *    `appendTaken`. `written` says every put was written.
 * Of concurrent steps with the same claim or take key exactly one gets past it: the claim and the take are each
 * atomic on every adapter, and on a single Redis the whole step is one script.
 */
export interface SingleUseStep {
  readonly claim?: { readonly key: string; readonly ttlMs: number };
  readonly take: { readonly key: string; readonly leave?: { readonly value: string; readonly ttlMs: number; readonly usedPrefix: string } };
  readonly put: readonly { readonly key: string; readonly value: string; readonly ttlMs: number; readonly appendTaken?: boolean }[];
}

export interface StepResult {
  /** False when the claim was already there (a replay): nothing was taken or written. */
  readonly fresh: boolean;
  /** What the take found (a used marker included); null when absent or not reached. */
  readonly taken: string | null;
  /** True when every put was written (false when none was due). */
  readonly written: boolean;
}

/** Whether a taken value is live (present and not a used marker): only then are the puts due. */
export const takenIsLive = (step: SingleUseStep, taken: string | null): taken is string =>
  taken !== null && (step.take.leave === undefined || !taken.startsWith(step.take.leave.usedPrefix));

/** Check a step's TTLs before any part of it runs. */
export function assertStep(step: SingleUseStep): void {
  if (step.claim) assertTtl(step.claim.ttlMs);
  if (step.take.leave) assertTtl(step.take.leave.ttlMs);
  for (const put of step.put) assertTtl(put.ttlMs);
}

export function assertTtl(ttlMs: number): void {
  if (!Number.isInteger(ttlMs) || ttlMs <= 0) throw new RangeError('every KV write needs a positive integer TTL');
}

export function assertCount(by: number): void {
  if (!Number.isInteger(by) || by <= 0) throw new RangeError('an increment counts a positive whole number of events');
}

/**
 * A step as its parts, one key at a time (a Redis Cluster keeps a step's keys on different nodes): the
 * claim, then the take, then the puts. Each part is atomic, so each single-use guarantee holds; between
 * the parts another request may act, which the puts' SET NX and the callers' checks allow for.
 */
export async function stepByParts(kv: Pick<Kv, 'setIfAbsent' | 'swap' | 'take'>, step: SingleUseStep): Promise<StepResult> {
  assertStep(step);
  const { claim, take, put } = step;
  if (claim && !(await kv.setIfAbsent(claim.key, '1', claim.ttlMs))) return { fresh: false, taken: null, written: false };
  const taken = take.leave ? await kv.swap(take.key, take.leave.value, take.leave.ttlMs) : await kv.take(take.key);
  if (!takenIsLive(step, taken)) return { fresh: true, taken, written: false };
  const results = await Promise.all(put.map((p) => kv.setIfAbsent(p.key, p.appendTaken ? p.value + taken : p.value, p.ttlMs)));
  return { fresh: true, taken, written: results.every(Boolean) };
}
