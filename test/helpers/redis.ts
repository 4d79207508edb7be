import { randomBytes } from 'node:crypto';
import { RedisKv } from '../../src/store/redis-kv.js';

/** REDIS_URL is required by the redis project: a missing one is a failure, never a skip. */
export function redisUrl(): string {
  const url = process.env.REDIS_URL;
  if (!url) throw new Error('REDIS_URL must be set for the redis test project (see .ci/run)');
  return url;
}

/** A RedisKv in its own key namespace, so test runs never see each other's keys. */
export async function isolatedRedisKv(url = redisUrl()): Promise<{ kv: RedisKv; prefix: string }> {
  const prefix = `pgwtest:${randomBytes(6).toString('hex')}:`;
  const kv = await RedisKv.connect(url, { keyPrefix: prefix });
  await kv.ping();
  return { kv, prefix };
}
