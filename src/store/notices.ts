import type { Cluster, Redis } from 'ioredis';
import type { Config } from '../config.js';
import { redisTarget } from './open-kv.js';
import { createClient } from './redis-kv.js';

// Notices between gateway processes: Redis pub/sub on a channel under
// REDIS_KEY_PREFIX, when Redis is configured; a single process needs none (it
// acts on its own changes directly). Pub/sub is not stored: a process that is
// disconnected misses what is published meanwhile, so every user of a channel
// says what catches it up (a periodic reload, a cache entry's own expiry).

/** The channel, under REDIS_KEY_PREFIX: deployments sharing a Redis do not hear each other. */
export const noticeChannel = (config: Pick<Config, 'REDIS_KEY_PREFIX'>, name: string): string => `${config.REDIS_KEY_PREFIX}${name}`;

export interface Notices {
  /** Best effort: a failure is reported to onError, never thrown. */
  publish(message: string): Promise<void>;
  close(): Promise<void>;
}

export const noNotices: Notices = { publish: async () => undefined, close: async () => undefined };

export interface NoticeHandlers {
  /** A message on the channel, also one this process published. */
  onMessage: (message: string) => void;
  /** After every (re)subscription: catch up on what may have been missed while disconnected. */
  onSubscribed?: () => void;
  onError: (err: unknown) => void;
}

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

/** Notices on one channel through the Redis the configuration names (URL, Sentinel or Cluster); none without Redis. */
export function openNotices(config: Config, name: string, handlers: NoticeHandlers): Notices {
  const target = redisTarget(config);
  if (!target) return noNotices;
  const channel = noticeChannel(config, name);
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
  subscriber.on('message', (received: string, message: string) => {
    if (received === channel) handlers.onMessage(message);
  });
  // Subscribe on every (re)connection. A Redis that is down at start does not
  // hold the start up; the subscription follows when it is back.
  subscriber.on('ready', () => {
    subscriber.subscribe(channel).then(() => handlers.onSubscribed?.(), handlers.onError);
  });
  publisher.connect().catch(handlers.onError);
  subscriber.connect().catch(handlers.onError);
  return {
    publish: async (message) => {
      await whenReady(publisher, 1_000);
      await publisher.publish(channel, message).catch(handlers.onError);
    },
    close: async () => {
      publisher.disconnect();
      subscriber.disconnect();
    },
  };
}
