/**
 * The hot-state port (docs/architecture.md; its keys: src/store/kv-keys.ts). Every write carries a TTL, and the
 * single-use operations are one atomic step in every adapter: take() is GETDEL,
 * setIfAbsent() is SET NX, swap() is SET XX GET,
 * increment() is INCR with the window's PEXPIRE in one script. Every operation
 * names one key, so the Redis adapter works on a Cluster without hash tags. Adapters throw
 * UnavailableError when the store cannot answer, so callers fail closed.
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
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function assertTtl(ttlMs: number): void {
  if (!Number.isInteger(ttlMs) || ttlMs <= 0) throw new RangeError('every KV write needs a positive integer TTL');
}

export function assertCount(by: number): void {
  if (!Number.isInteger(by) || by <= 0) throw new RangeError('an increment counts a positive whole number of events');
}
