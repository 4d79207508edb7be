import { isIPv6 } from 'node:net';
import type { FastifyRequest } from 'fastify';
import { RateLimitedError } from '../errors.js';
import type { Clock } from '../clock.js';
import type { Kv } from '../store/kv.js';
import { KV_KEYS, kvKey } from '../store/kv-keys.js';

// Fixed-window rate limits through the KV port, shared by every instance when
// the KV is Redis. A KV that cannot answer throws UnavailableError, so a limit
// fails closed (503) like the login it guards.
//
// Counting every request with its own round trip costs a login four Redis
// scripts. The counter below counts exactly near a limit and in batches far
// from it: the first request of a key in a window, and every request once the
// known count reaches half the limit, increments synchronously; below that,
// requests are counted in the process and added to the shared counter every
// BATCH_FLUSH_MS. What another instance counted meanwhile is learned at the next
// flush, so over the whole fleet a key can get at most that much traffic past
// the limit, and only while it is below half of it by this process's count.

export interface RateLimit {
  /** Part of the counter's key: limits with different names never share a counter. */
  readonly name: string;
  readonly max: number;
  readonly windowMs: number;
}

/** Counters live under this prefix: bookkeeping of requests, not state a request wrote. */
export const RATE_LIMIT_PREFIX = KV_KEYS.rateLimit.prefix;

export const perMinute = (name: string, max: number): RateLimit => ({ name, max, windowMs: 60_000 });

export interface RateCounter {
  /** Count one request for `key` under `limit`: the count in the window so far (this one included) and the window's time left. */
  hit(limit: RateLimit, key: string): Promise<{ count: number; ttlMs: number }>;
  /** Add what is counted in the process to the shared counters. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export const BATCH_FLUSH_MS = 50;
/** Keys counted in the process at once; past this, requests count synchronously. */
const MAX_BATCHED_KEYS = 50_000;

interface Window {
  readonly limit: RateLimit;
  /** Clock time the window ends. */
  endsAt: number;
  /** The shared count as last seen. */
  known: number;
  /** Counted here, not yet added to the shared counter. */
  pending: number;
}

export function createRateCounter(
  kv: Pick<Kv, 'increment'>, clock: Clock, onError: (err: unknown) => void = () => undefined, flushMs = BATCH_FLUSH_MS,
): RateCounter {
  const windows = new Map<string, Window>();
  let flushing: Promise<void> | undefined;

  async function add(key: string, window: Window, by: number): Promise<{ count: number; ttlMs: number }> {
    const result = await kv.increment(key, window.limit.windowMs, by);
    const now = clock.now();
    // The shared counter may have started a new window: follow it.
    window.endsAt = now + result.ttlMs;
    window.known = result.count;
    return result;
  }

  async function flushAll(): Promise<void> {
    const now = clock.now();
    const due: Promise<unknown>[] = [];
    for (const [key, window] of windows) {
      if (window.endsAt <= now) {
        // Counts of an ended window no longer limit anything.
        windows.delete(key);
        continue;
      }
      if (!window.pending) continue;
      const by = window.pending;
      window.pending = 0;
      due.push(add(key, window, by).catch((err: unknown) => {
        window.pending += by;
        onError(err);
      }));
    }
    await Promise.all(due);
  }

  const flush = (): Promise<void> => (flushing ??= flushAll().finally(() => (flushing = undefined)));
  const timer = setInterval(() => void flush(), flushMs);
  timer.unref();

  return {
    async hit(limit, key) {
      const counterKey = kvKey('rateLimit', `${limit.name}:${key}`);
      const now = clock.now();
      let window = windows.get(counterKey);
      if (window && window.endsAt <= now) {
        windows.delete(counterKey);
        window = undefined;
      }
      if (!window) {
        window = { limit, endsAt: now + limit.windowMs, known: 0, pending: 0 };
        if (windows.size < MAX_BATCHED_KEYS) windows.set(counterKey, window);
        return add(counterKey, window, 1);
      }
      const count = window.known + window.pending + 1;
      if (2 * count >= limit.max) {
        // Near the limit: exact, with this process's pending counts added at once.
        const by = window.pending + 1;
        window.pending = 0;
        return add(counterKey, window, by).catch((err: unknown) => {
          window.pending += by - 1;
          throw err;
        });
      }
      window.pending++;
      return { count, ttlMs: window.endsAt - now };
    },
    flush,
    async close() {
      clearInterval(timer);
      await flush().catch(onError);
    },
  };
}

/** Count one request against `limit` for `key`; past the limit, a 429 with the window's time left. */
export async function enforceRateLimit(counter: Pick<RateCounter, 'hit'>, limit: RateLimit, key: string): Promise<void> {
  const { count, ttlMs } = await counter.hit(limit, key);
  if (count > limit.max) throw new RateLimitedError(Math.max(1, Math.ceil(ttlMs / 1000)));
}

/** An onRequest hook: counts by client address before the body is read, so a refused request costs no parsing or crypto. */
export function limitByAddress(counter: Pick<RateCounter, 'hit'>, limit: RateLimit) {
  return async (request: FastifyRequest): Promise<void> => enforceRateLimit(counter, limit, addressKey(request.ip));
}

/**
 * The address a limit counts by: IPv4 as it is; IPv6 by its /64, since one
 * subscriber usually holds a whole /64 and could otherwise rotate addresses.
 */
export function addressKey(ip: string): string {
  if (!isIPv6(ip)) return ip;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  const [head = '', tail] = ip.split('%', 1)[0]!.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}
