import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createKeySchedule } from '../../src/crypto/key-schedule.js';
import { pupilInput, rootOf } from '../../src/crypto/pseudonym.js';
import { createRootCache } from '../../src/crypto/root-cache.js';
import { UnavailableError } from '../../src/errors.js';
import { MemoryKv } from '../../src/store/memory-kv.js';
import { TestClock } from '../helpers/clock.js';

const cost = { N: 1024, r: 8, p: 1 };

describe('root cache: in-process LRU, then the shared KV, then scrypt', () => {
  const keys = createKeySchedule(randomBytes(32));
  const input = pupilInput('12AB', '4711');

  it('computes once, then answers from memory; a second instance answers from the KV without scrypt', async () => {
    const kv = new MemoryKv();
    const first = createRootCache(keys, kv, { cost });
    const expected = await rootOf(keys, input, cost);
    expect(await first.rootFor(input)).toEqual(expected);
    expect(await first.rootFor(input)).toEqual(expected);
    expect(first.stats).toEqual({ memoryHits: 1, kvHits: 0, computed: 1, scryptInFlight: 0, scryptRefused: 0 });
    const second = createRootCache(keys, kv, { cost });
    expect(await second.rootFor(input)).toEqual(expected);
    expect(second.stats).toEqual({ memoryHits: 0, kvHits: 1, computed: 0, scryptInFlight: 0, scryptRefused: 0 });
  });

  it('stores the root under a keyed hash: the KV holds neither the school nor the pupil key', async () => {
    const kv = new MemoryKv();
    await createRootCache(keys, kv, { cost }).rootFor(input);
    const [key] = kv.keys();
    expect(key).toMatch(/^root:[A-Za-z0-9_-]{43}$/);
    expect(key).not.toContain('4711');
    expect(key).not.toContain('12AB');
  });

  it('shares one scrypt run among concurrent first logins of a pupil', async () => {
    const cache = createRootCache(keys, new MemoryKv(), { cost });
    const roots = await Promise.all(Array.from({ length: 20 }, () => cache.rootFor(pupilInput('12AB', 'concurrent'))));
    expect(new Set(roots.map((r) => r.toString('hex'))).size).toBe(1);
    expect(cache.stats.computed).toBe(1);
  });

  it('counts scrypt derivations in flight for the queue-length gauge', async () => {
    const slow = { N: 2 ** 14, r: 8, p: 1 };
    const cache = createRootCache(keys, new MemoryKv(), { cost: slow, scryptConcurrency: 3 });
    const pending = ['a', 'b', 'c'].map((k) => cache.rootFor(pupilInput('12AB', `queued-${k}`)));
    // The KV misses resolve in microtasks; the three scrypt runs (tens of ms each) are then queued.
    await new Promise((resolve) => setImmediate(resolve));
    expect(cache.stats.scryptInFlight).toBe(3);
    await Promise.all(pending);
    expect(cache.stats).toMatchObject({ scryptInFlight: 0, computed: 3 });
  });

  it('fails the lookup, without a scrypt run, when the KV cannot be read (down, or stalled past its timeout)', async () => {
    const down = new UnavailableError(new Error('down'));
    const broken = { get: () => Promise.reject(down), set: () => Promise.reject(down), del: () => Promise.reject(down), touch: () => Promise.reject(down) };
    const cache = createRootCache(keys, broken, { cost });
    await expect(cache.rootFor(input)).rejects.toBe(down);
    expect(cache.stats).toMatchObject({ computed: 0, scryptInFlight: 0 });
  });

  it('fails open when only the KV write fails (a full Redis): the same root, computed, and the error reported', async () => {
    const full = new MemoryKv();
    const errors: unknown[] = [];
    const cache = createRootCache(keys, { get: (k) => full.get(k), set: () => Promise.reject(new UnavailableError(new Error('OOM'))), del: (k) => full.del(k), touch: (k, t) => full.touch(k, t) }, { cost, onKvError: (err) => errors.push(err) });
    expect(await cache.rootFor(input)).toEqual(await rootOf(keys, input, cost));
    expect(errors).toHaveLength(1);
  });

  it('bounds scrypt: past the running and waiting derivations a cold lookup is refused at once (503), never queued without end', async () => {
    const cache = createRootCache(keys, new MemoryKv(), { cost, scryptConcurrency: 1, scryptQueue: 2 });
    const outcomes = await Promise.allSettled(['a', 'b', 'c', 'd', 'e'].map((k) => cache.rootFor(pupilInput('12AB', `storm-${k}`))));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected']);
    expect((outcomes[3] as PromiseRejectedResult).reason).toBeInstanceOf(UnavailableError);
    expect(cache.stats).toMatchObject({ computed: 3, scryptRefused: 2, scryptInFlight: 0 });
    // A warm pupil is never refused, whatever the storm.
    expect(await cache.rootFor(pupilInput('12AB', 'storm-a'))).toHaveLength(32);
  });
});

describe('root cache: the shared lifetime slides while the pupil keeps logging in', () => {
  const keys = createKeySchedule(randomBytes(32));
  const DAY = 24 * 3600 * 1000;
  const input = pupilInput('12AB', 'summer');

  it('a root used every 20 days outlives a fixed 30-day lifetime; one left alone expires 30 days after its last use', async () => {
    const clock = new TestClock();
    const kv = new MemoryKv(clock);
    const cache = createRootCache(keys, kv, { cost, clock, kvTtlMs: 30 * DAY, touchEveryMs: DAY });
    await cache.rootFor(input);
    for (let day = 20; day <= 80; day += 20) {
      clock.advance(20 * DAY);
      await cache.rootFor(input);
      await cache.flushTouches();
    }
    // Day 80: a process that never saw the pupil finds the root in the shared cache, no scrypt.
    const fresh = createRootCache(keys, kv, { cost, clock, kvTtlMs: 30 * DAY });
    await fresh.rootFor(input);
    expect(fresh.stats).toMatchObject({ kvHits: 1, computed: 0 });
    // Then the pupil stops: 30 days after the last use the root is gone.
    clock.advance(30 * DAY);
    expect(kv.keys().filter((k) => k.startsWith('root:'))).toEqual([]);
    await Promise.all([cache.close(), fresh.close()]);
  });

  it('renews at most once a touch interval per pupil and process, in the background', async () => {
    const clock = new TestClock();
    const kv = new MemoryKv(clock);
    let touches = 0;
    const counted = { get: (k: string) => kv.get(k), set: (k: string, v: string, t: number) => kv.set(k, v, t), del: (k: string) => kv.del(k), touch: (k: string, t: number) => (touches++, kv.touch(k, t)) };
    const cache = createRootCache(keys, counted, { cost, clock, kvTtlMs: 30 * DAY, touchEveryMs: DAY });
    for (let i = 0; i < 10; i++) await cache.rootFor(input);
    await cache.flushTouches();
    expect(touches).toBe(0);
    clock.advance(DAY);
    for (let i = 0; i < 10; i++) await cache.rootFor(input);
    await cache.flushTouches();
    expect(touches).toBe(1);
    await cache.close();
  });
});
