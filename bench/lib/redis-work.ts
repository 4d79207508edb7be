// Redis work per login, from Redis's own counters (INFO stats): commands
// processed, and read events, which for logins run one at a time are the
// round trips (commands sent together in one pipeline arrive in one read).
// Counts everything Redis serves meanwhile, so nothing else may use it: the
// same idle window is measured first and taken off.
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';

export interface RedisWork {
  /** Commands per login. */
  readonly commands: number;
  /** Read events per login: the round trips when logins run one at a time. */
  readonly roundTrips: number;
}

async function counters(redis: Redis): Promise<{ commands: number; reads: number }> {
  const info = await redis.info('stats');
  const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? Number.NaN);
  return { commands: field('total_commands_processed'), reads: field('total_reads_processed') };
}

/** `logins` logins one after another; what Redis did for each, beyond what it does idle in the same time. */
export async function redisWorkPerLogin(redisUrl: string, login: () => Promise<void>, logins: number): Promise<RedisWork> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    // Each INFO is a command and a read of its own: two per measurement, taken off below.
    const started = performance.now();
    const before = await counters(redis);
    for (let i = 0; i < logins; i++) await login();
    const after = await counters(redis);
    const busyMs = performance.now() - started;
    const idleBefore = await counters(redis);
    await sleep(busyMs);
    const idleAfter = await counters(redis);
    const per = (key: 'commands' | 'reads') => (after[key] - before[key] - (idleAfter[key] - idleBefore[key])) / logins;
    return { commands: per('commands'), roundTrips: per('reads') };
  } finally {
    redis.disconnect();
  }
}
