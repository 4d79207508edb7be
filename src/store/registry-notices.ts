import type { Cluster, Redis } from 'ioredis';
import type { Config } from '../config.js';
import { redisTarget } from './open-kv.js';
import { createClient } from './redis-kv.js';

// "The registrations changed": published by the process that wrote them, heard
// by every gateway process, which then reloads its snapshot. Redis pub/sub when
// Redis is configured; a single process needs no notices (it refreshes itself).
// A lost notice is caught by the periodic refresh.

/** The channel, under REDIS_KEY_PREFIX: deployments sharing a Redis do not hear each other. */
export const noticeChannel = (config: Pick<Config, 'REDIS_KEY_PREFIX'>): string => `${config.REDIS_KEY_PREFIX}registry-changed`;

export interface RegistryNotices {
  publish(): Promise<void>;
  close(): Promise<void>;
}

export const noNotices: RegistryNotices = { publish: async () => undefined, close: async () => undefined };

/** Wait (bounded) for a connection still being made, e.g. right after start; no offline queue builds up. */
function whenReady(client: Redis | Cluster, ms: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    client.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Notices through the Redis the configuration names (URL, Sentinel or Cluster); none without Redis. */
export function openRegistryNotices(config: Config, onNotice: () => void, onError: (err: unknown) => void): RegistryNotices {
  const target = redisTarget(config);
  if (!target) return noNotices;
  const channel = noticeChannel(config);
  // A subscribed connection can issue no other commands: one for each role.
  const options = {
    keyPrefix: '',
    enableAutoPipelining: false,
    commandTimeout: 2_000,
    ...(config.REDIS_USERNAME === undefined ? {} : { username: config.REDIS_USERNAME }),
    ...(config.REDIS_PASSWORD === undefined ? {} : { password: config.REDIS_PASSWORD }),
  };
  const publisher = createClient(target, options);
  const subscriber = createClient(target, options);
  publisher.on('error', () => undefined);
  subscriber.on('error', () => undefined);
  subscriber.on('message', (received: string) => {
    if (received === channel) onNotice();
  });
  // Subscribe on every (re)connection, then reload once: a notice missed while
  // disconnected is caught up at once. A Redis that is down at start does not
  // hold the start up; the subscription follows when it is back.
  subscriber.on('ready', () => {
    subscriber.subscribe(channel).then(() => onNotice(), onError);
  });
  publisher.connect().catch(onError);
  subscriber.connect().catch(onError);
  return {
    publish: async () => {
      await whenReady(publisher, 1_000);
      await publisher.publish(channel, String(Date.now())).catch(onError);
    },
    close: async () => {
      publisher.disconnect();
      subscriber.disconnect();
    },
  };
}
