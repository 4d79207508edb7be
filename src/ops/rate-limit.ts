import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import type { Kv } from '../store/kv.js';
import { RedisKv } from '../store/redis-kv.js';

// Rate limits through @fastify/rate-limit, for the scope it is registered in:
// counters in Redis when the KV is Redis (shared by every instance), else in
// process. Over the limit: 429 with Retry-After and x-ratelimit-* headers; the
// scope's error handler shapes the body.

export interface RateLimitSettings {
  /** Keeps this limit's counters apart from every other limit's. */
  name: string;
  max: number;
  timeWindowMs: number;
  /** When the Redis store fails: true lets requests through, false refuses them. */
  allowOnStoreError: boolean;
}

export async function registerRateLimit(scope: FastifyInstance, kv: Kv, settings: RateLimitSettings): Promise<void> {
  await scope.register(rateLimit, {
    global: true,
    max: settings.max,
    timeWindow: settings.timeWindowMs,
    nameSpace: `rl:${settings.name}:`,
    skipOnError: settings.allowOnStoreError,
    ...(kv instanceof RedisKv ? { redis: kv.client } : {}),
  });
}
