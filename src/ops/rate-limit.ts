import { isIPv6 } from 'node:net';
import type { FastifyRequest } from 'fastify';
import { RateLimitedError } from '../errors.js';
import type { Kv } from '../store/kv.js';

// Fixed-window rate limits through the KV port: one INCR per request and key,
// shared by every instance when the KV is Redis. A KV that cannot answer throws
// UnavailableError, so a limit fails closed (503) like the login it guards.

export interface RateLimit {
  /** Part of the counter's key: limits with different names never share a counter. */
  readonly name: string;
  readonly max: number;
  readonly windowMs: number;
}

/** Counters live under this prefix: bookkeeping of requests, not state a request wrote. */
export const RATE_LIMIT_PREFIX = 'rl:';

export const perMinute = (name: string, max: number): RateLimit => ({ name, max, windowMs: 60_000 });

/** Count one request against `limit` for `key`; past the limit, a 429 with the window's time left. */
export async function enforceRateLimit(kv: Pick<Kv, 'increment'>, limit: RateLimit, key: string): Promise<void> {
  const { count, ttlMs } = await kv.increment(`${RATE_LIMIT_PREFIX}${limit.name}:${key}`, limit.windowMs);
  if (count > limit.max) throw new RateLimitedError(Math.max(1, Math.ceil(ttlMs / 1000)));
}

/** An onRequest hook: counts by client address before the body is read, so a refused request costs no parsing or crypto. */
export function limitByAddress(kv: Pick<Kv, 'increment'>, limit: RateLimit) {
  return async (request: FastifyRequest): Promise<void> => enforceRateLimit(kv, limit, addressKey(request.ip));
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
