// Who used the machine's cores during a run: the server under test (its
// /proc times), this process (the load generator) and Redis (INFO cpu, so only
// meaningful when Redis runs on this machine, as in the benchmark).
import { Redis } from 'ioredis';
import type { ServerHandle } from './child.js';

/** Shares of one core over the run: 1 is one core busy the whole time. */
export interface CpuShares {
  readonly server: number;
  readonly generator: number;
  readonly redis: number;
}

async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const field = (name: string): number => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? Number.NaN);
  return field('used_cpu_user') + field('used_cpu_sys');
}

export async function withCpuShares<T>(server: ServerHandle, redisUrl: string, run: () => Promise<T>): Promise<T & { shares: CpuShares }> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    const before = { at: performance.now(), server: server.cpuSeconds(), generator: process.cpuUsage(), redis: await redisCpuSeconds(redis) };
    const result = await run();
    const seconds = (performance.now() - before.at) / 1000;
    const generator = process.cpuUsage(before.generator);
    return {
      ...result,
      shares: {
        server: (server.cpuSeconds() - before.server) / seconds,
        generator: (generator.user + generator.system) / 1e6 / seconds,
        redis: ((await redisCpuSeconds(redis)) - before.redis) / seconds,
      },
    };
  } finally {
    redis.disconnect();
  }
}
