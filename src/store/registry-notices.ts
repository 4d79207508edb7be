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

/** Wait (bounded) for a connection still being made, e.g. right after start; no offline queue builds up. */
function whenReady(client: Redis, ms: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    client.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export function redisNotices(url: string, onNotice: () => void, onError: (err: unknown) => void): RegistryNotices {
  // A subscribed connection can issue no other commands: one for each role.
  const options = { ...redisOptions, keyPrefix: '', enableAutoPipelining: false, commandTimeout: 2_000 } as RedisOptions & { replyMapping?: never };
  const publisher = new Redis(url, options);
  const subscriber = new Redis(url, options);
  publisher.on('error', () => undefined);
  subscriber.on('error', () => undefined);
  subscriber.on('message', (channel: string) => {
    if (channel === NOTICE_CHANNEL) onNotice();
  });
  // Subscribe on every (re)connection, then reload once: a notice missed while
  // disconnected is caught up at once. A Redis that is down at start does not
  // hold the start up; the subscription follows when it is back.
  subscriber.on('ready', () => {
    subscriber.subscribe(NOTICE_CHANNEL).then(() => onNotice(), onError);
  });
  publisher.connect().catch(onError);
  subscriber.connect().catch(onError);
  return {
    publish: async () => {
      await whenReady(publisher, 1_000);
      await publisher.publish(NOTICE_CHANNEL, String(Date.now())).catch(onError);
    },
    close: async () => {
      publisher.disconnect();
      subscriber.disconnect();
    },
  };
}
