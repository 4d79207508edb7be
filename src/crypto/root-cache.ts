import { LRUCache } from 'lru-cache';
import { systemClock, type Clock } from '../clock.js';
import { UnavailableError } from '../errors.js';
import type { Kv } from '../store/kv.js';
import { kvKey } from '../store/kv-keys.js';
import type { KeySchedule } from './key-schedule.js';
import { rootCacheKey, rootOf, type PupilRoot, type ScryptCost } from './pseudonym.js';
import { createSlots } from './slots.js';

// The pupil's pseudonym root (docs/pseudonyms.md): scrypt once, then cached,
// first in this process (an LRU), then in the shared KV under a keyed hash
// for as long as the pupil keeps logging in (a sliding lifetime,
// ROOT_CACHE_TTL_DAYS), so the first school day after the summer holidays is
// not a morning of cold logins.
//
// A root served from this process's memory renews its shared lifetime in the
// background, at most once a touch interval per pupil and process: a batch of
// PEXPIREs off the request path, so the warm path never waits on the KV.
//
// scrypt runs on libuv's thread pool, at most `scryptConcurrency` at a time;
// at most `scryptQueue` more wait for a turn. Past that a cold login gets 503
// with Retry-After at once: a storm of cold logins must not starve the warm
// ones of CPU, nor pile up without bound.

export interface RootCacheOptions {
  cost: ScryptCost;
  /** In-process entries. A root is 32 bytes, so 100k pupils is a few MiB. */
  maxEntries?: number;
  /** The shared cache's sliding lifetime. */
  kvTtlMs?: number;
  /** A root served from memory renews its shared lifetime at most this often (default: a day, or a tenth of the lifetime). */
  touchEveryMs?: number;
  /** Roots derived at a time in this process (libuv thread pool; each takes a core while it runs). */
  scryptConcurrency?: number;
  /** Derivations that may wait for a turn; more are refused (503). */
  scryptQueue?: number;
  clock?: Clock;
  onKvError?: (err: unknown) => void;
}

export interface RootCache {
  /** The scrypt root for a pupil: in-process LRU, then the shared KV, then scrypt off the main thread. */
  rootFor(input: Buffer): Promise<PupilRoot>;
  /** Erasure: drop the pupil's root from the shared KV and this process. */
  forget(input: Buffer): Promise<void>;
  /** Drop a root from this process only, by cache key (an erasure notice from another process). */
  forgetCached(cacheKey: string): void;
  /** Renew now the shared lifetime of the roots served from memory since the last batch. */
  flushTouches(): Promise<void>;
  /** Stops the background renewal after a last batch. */
  close(): Promise<void>;
  readonly stats: { memoryHits: number; kvHits: number; computed: number; scryptInFlight: number; scryptRefused: number };
}

/** Where the shared KV keeps a root: under its keyed hash, never the pupil's key. */
export const rootKvKey = (cacheKey: string): string => kvKey('root', cacheKey);

export const DEFAULT_ROOT_TTL_DAYS = 100;
const DAY_MS = 24 * 3600 * 1000;
const TOUCH_FLUSH_MS = 5_000;

interface Cached {
  readonly root: PupilRoot;
  /** When this process last renewed the root's shared lifetime (or found it fresh). */
  touchedAt: number;
}

export function createRootCache(keys: KeySchedule, kv: Pick<Kv, 'get' | 'set' | 'del' | 'touch'>, options: RootCacheOptions): RootCache {
  const memory = new LRUCache<string, Cached>({ max: options.maxEntries ?? 100_000 });
  // Concurrent first logins of one pupil share one scrypt run.
  const inFlight = new Map<string, Promise<PupilRoot>>();
  const stats = { memoryHits: 0, kvHits: 0, computed: 0, scryptInFlight: 0, scryptRefused: 0 };
  const clock = options.clock ?? systemClock;
  const kvTtl = options.kvTtlMs ?? DEFAULT_ROOT_TTL_DAYS * DAY_MS;
  const touchEvery = options.touchEveryMs ?? Math.min(DAY_MS, Math.floor(kvTtl / 10));
  const reportKvError = options.onKvError ?? (() => undefined);
  const scrypt = createSlots(options.scryptConcurrency ?? 2, options.scryptQueue ?? 64);
  const toTouch = new Set<string>();
  const timer = setInterval(() => void flushTouches(), TOUCH_FLUSH_MS);
  timer.unref();

  async function flushTouches(): Promise<void> {
    if (!toTouch.size) return;
    const batch = [...toTouch];
    toTouch.clear();
    // Best effort: a renewal lost costs at most a scrypt run once the lifetime ends.
    await Promise.all(batch.map((cacheKey) => kv.touch(rootKvKey(cacheKey), kvTtl).catch(reportKvError)));
  }

  function derive(input: Buffer): Promise<PupilRoot> {
    const turn = scrypt.use(() => rootOf(keys, input, options.cost));
    if (!turn) {
      stats.scryptRefused++;
      return Promise.reject(new UnavailableError(new Error('too many pseudonym roots being derived; try again shortly')));
    }
    // Running or waiting for a turn: the queue-length gauge.
    stats.scryptInFlight++;
    return turn.finally(() => stats.scryptInFlight--);
  }

  async function load(cacheKey: string, input: Buffer): Promise<Cached> {
    // A read that fails is no miss: the KV is unavailable (down, or stalled past the command
    // timeout), and every caller needs it next anyway (a login for its code, a resolution job
    // for its result). Failing here spares a scrypt run whose result could only be thrown
    // away, and keeps the request within its Redis bound (src/store/redis-kv.ts).
    const cached = await kv.get(rootKvKey(cacheKey));
    if (cached) {
      const root = Buffer.from(cached, 'base64url') as PupilRoot;
      if (root.length === 32) {
        stats.kvHits++;
        // Found in the shared cache: its lifetime starts again (in the next batch).
        toTouch.add(cacheKey);
        return { root, touchedAt: clock.now() };
      }
    }
    const root = await derive(input);
    stats.computed++;
    // A write may fail open (a full Redis refuses writes but still reads): the root is right
    // either way, and only the next process's lookup costs a scrypt run again.
    await kv.set(rootKvKey(cacheKey), root.toString('base64url'), kvTtl).catch(reportKvError);
    return { root, touchedAt: clock.now() };
  }

  return {
    stats,
    async rootFor(input) {
      const cacheKey = rootCacheKey(keys, input);
      const hit = memory.get(cacheKey);
      if (hit) {
        stats.memoryHits++;
        const now = clock.now();
        if (now - hit.touchedAt >= touchEvery) {
          hit.touchedAt = now;
          toTouch.add(cacheKey);
        }
        return hit.root;
      }
      let pending = inFlight.get(cacheKey);
      if (!pending) {
        pending = load(cacheKey, input).then((entry) => {
          memory.set(cacheKey, entry);
          return entry.root;
        }).finally(() => inFlight.delete(cacheKey));
        inFlight.set(cacheKey, pending);
      }
      return pending;
    },
    async forget(input) {
      const cacheKey = rootCacheKey(keys, input);
      memory.delete(cacheKey);
      toTouch.delete(cacheKey);
      // An erasure must not fail open: the caller reports it.
      await kv.del(rootKvKey(cacheKey));
    },
    forgetCached(cacheKey) {
      memory.delete(cacheKey);
      toTouch.delete(cacheKey);
    },
    flushTouches,
    async close() {
      clearInterval(timer);
      await flushTouches();
    },
  };
}
