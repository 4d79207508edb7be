import { Redis, type RedisOptions } from 'ioredis';
import { redisOptions } from './redis-kv.js';

// "The registrations changed": published by the process that wrote them, heard
// by every gateway process, which then reloads its snapshot. Redis pub/sub when
// Redis is configured; a single process needs no notices (it refreshes itself).
// A lost notice is caught by the periodic refresh.

export const NOTICE_CHANNEL = 'pgw:registry-changed';

export interface RegistryNotices {
  publish(): Promise<void>;
  close(): Promise<void>;
}

export const noNotices: RegistryNotices = { publish: async () => undefined, close: async () => undefined };

export async function redisNotices(url: string, onNotice: () => void, onError: (err: unknown) => void): Promise<RegistryNotices> {
  // A subscribed connection can issue no other commands: one for each role.
  const options = { ...redisOptions, keyPrefix: '', enableAutoPipelining: false, commandTimeout: 2_000 } as RedisOptions & { replyMapping?: never };
  const publisher = new Redis(url, options);
  const subscriber = new Redis(url, { ...options, enableOfflineQueue: true });
  publisher.on('error', () => undefined);
  subscriber.on('error', () => undefined);
  subscriber.on('message', (channel: string) => {
    if (channel === NOTICE_CHANNEL) onNotice();
  });
  // ioredis resubscribes after a reconnect; a notice missed meanwhile waits for the periodic refresh.
  subscriber.on('ready', () => onNotice());
  await Promise.all([publisher.connect().catch(onError), subscriber.connect().catch(onError)]);
  await subscriber.subscribe(NOTICE_CHANNEL).catch(onError);
  return {
    publish: async () => {
      await publisher.publish(NOTICE_CHANNEL, String(Date.now())).catch(onError);
    },
    close: async () => {
      publisher.disconnect();
      subscriber.disconnect();
    },
  };
}
