import { LRUCache } from 'lru-cache';
import type { Kv } from '../store/kv.js';
import { kvKey } from '../store/kv-keys.js';
import type { KeySchedule } from './key-schedule.js';
import { rootCacheKey, rootOf, type PupilRoot, type ScryptCost } from './pseudonym.js';

export interface RootCacheOptions {
  cost: ScryptCost;
  /** In-process entries. A root is 32 bytes, so 100k pupils is a few MiB. */
  maxEntries?: number;
  /** Shared-cache lifetime. Long: a root only changes with the master key. */
  kvTtlMs?: number;
  onKvError?: (err: unknown) => void;
}

export interface RootCache {
  /** The scrypt root for a pupil: in-process LRU, then the shared KV, then scrypt off the main thread. */
  rootFor(input: Buffer): Promise<PupilRoot>;
  /** Erasure: drop the pupil's root from the shared KV and this process. */
  forget(input: Buffer): Promise<void>;
  /** Drop a root from this process only, by cache key (an erasure notice from another process). */
  forgetCached(cacheKey: string): void;
  readonly stats: { memoryHits: number; kvHits: number; computed: number; scryptInFlight: number };
}

/** Where the shared KV keeps a root: under its keyed hash, never the pupil's key. */
export const rootKvKey = (cacheKey: string): string => kvKey('root', cacheKey);

const DEFAULT_KV_TTL_MS = 30 * 24 * 3600 * 1000;

export function createRootCache(keys: KeySchedule, kv: Pick<Kv, 'get' | 'set' | 'del'>, options: RootCacheOptions): RootCache {
  const memory = new LRUCache<string, PupilRoot>({ max: options.maxEntries ?? 100_000 });
  // Concurrent first logins of one pupil share one scrypt run.
  const inFlight = new Map<string, Promise<PupilRoot>>();
  const stats = { memoryHits: 0, kvHits: 0, computed: 0, scryptInFlight: 0 };
  const kvTtl = options.kvTtlMs ?? DEFAULT_KV_TTL_MS;
  const reportKvError = options.onKvError ?? (() => undefined);

  async function load(cacheKey: string, input: Buffer): Promise<PupilRoot> {
    // A read that fails is no miss: the KV is unavailable (down, or stalled past the command
    // timeout), and every caller needs it next anyway (a login for its code, a resolution job
    // for its result). Failing here spares a scrypt run whose result could only be thrown
    // away, and keeps the request within its Redis bound (src/store/redis-kv.ts).
    const cached = await kv.get(rootKvKey(cacheKey));
    if (cached) {
      const root = Buffer.from(cached, 'base64url') as PupilRoot;
      if (root.length === 32) {
        stats.kvHits++;
        return root;
      }
    }
    stats.scryptInFlight++;
    const root = await rootOf(keys, input, options.cost).finally(() => stats.scryptInFlight--);
    stats.computed++;
    // A write may fail open (a full Redis refuses writes but still reads): the root is right
    // either way, and only the next process's lookup costs a scrypt run again.
    await kv.set(rootKvKey(cacheKey), root.toString('base64url'), kvTtl).catch(reportKvError);
    return root;
  }

  return {
    stats,
    async rootFor(input) {
      const cacheKey = rootCacheKey(keys, input);
      const hit = memory.get(cacheKey);
      if (hit) {
        stats.memoryHits++;
        return hit;
      }
      let pending = inFlight.get(cacheKey);
      if (!pending) {
        pending = load(cacheKey, input).finally(() => inFlight.delete(cacheKey));
        inFlight.set(cacheKey, pending);
      }
      const root = await pending;
      memory.set(cacheKey, root);
      return root;
    },
    async forget(input) {
      const cacheKey = rootCacheKey(keys, input);
      memory.delete(cacheKey);
      // An erasure must not fail open: the caller reports it.
      await kv.del(rootKvKey(cacheKey));
    },
    forgetCached(cacheKey) {
      memory.delete(cacheKey);
    },
  };
}
