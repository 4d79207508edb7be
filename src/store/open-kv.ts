import type { Config } from '../config.js';
import type { Kv } from './kv.js';
import { MemoryKv } from './memory-kv.js';
import { RedisKv, type RedisTarget } from './redis-kv.js';

/** The Redis the configuration names (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES), if any. */
export function redisTarget(config: Config): RedisTarget | undefined {
  if (config.REDIS_URL) return { kind: 'url', url: config.REDIS_URL };
  if (config.REDIS_SENTINELS && config.REDIS_SENTINEL_NAME) return { kind: 'sentinel', sentinels: config.REDIS_SENTINELS, name: config.REDIS_SENTINEL_NAME };
  if (config.REDIS_CLUSTER_NODES) return { kind: 'cluster', nodes: config.REDIS_CLUSTER_NODES };
  return undefined;
}

/** The hot-state store: Redis when configured (required for more than one instance), else in memory. */
export async function openKv(config: Config): Promise<Kv> {
  const target = redisTarget(config);
  if (!target) return new MemoryKv();
  return RedisKv.open(target, {
    keyPrefix: config.REDIS_KEY_PREFIX,
    commandTimeout: config.REDIS_COMMAND_TIMEOUT_MS,
    ...(config.REDIS_USERNAME === undefined ? {} : { username: config.REDIS_USERNAME }),
    ...(config.REDIS_PASSWORD === undefined ? {} : { password: config.REDIS_PASSWORD }),
  });
}
