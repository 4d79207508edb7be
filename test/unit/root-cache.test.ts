import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createKeySchedule } from '../../src/crypto/key-schedule.js';
import { pupilInput, rootOf } from '../../src/crypto/pseudonym.js';
import { createRootCache } from '../../src/crypto/root-cache.js';
import { UnavailableError } from '../../src/errors.js';
import { MemoryKv } from '../../src/store/memory-kv.js';

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
    expect(first.stats).toEqual({ memoryHits: 1, kvHits: 0, computed: 1, scryptInFlight: 0 });
    const second = createRootCache(keys, kv, { cost });
    expect(await second.rootFor(input)).toEqual(expected);
    expect(second.stats).toEqual({ memoryHits: 0, kvHits: 1, computed: 0, scryptInFlight: 0 });
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
    const cache = createRootCache(keys, new MemoryKv(), { cost: slow });
    const pending = ['a', 'b', 'c'].map((k) => cache.rootFor(pupilInput('12AB', `queued-${k}`)));
    // The KV misses resolve in microtasks; the three scrypt runs (tens of ms each) are then queued.
    await new Promise((resolve) => setImmediate(resolve));
    expect(cache.stats.scryptInFlight).toBe(3);
    await Promise.all(pending);
    expect(cache.stats).toMatchObject({ scryptInFlight: 0, computed: 3 });
  });

  it('fails the lookup, without a scrypt run, when the KV cannot be read (down, or stalled past its timeout)', async () => {
    const down = new UnavailableError(new Error('down'));
    const broken = { get: () => Promise.reject(down), set: () => Promise.reject(down), del: () => Promise.reject(down) };
    const cache = createRootCache(keys, broken, { cost });
    await expect(cache.rootFor(input)).rejects.toBe(down);
    expect(cache.stats).toMatchObject({ computed: 0, scryptInFlight: 0 });
  });

  it('fails open when only the KV write fails (a full Redis): the same root, computed, and the error reported', async () => {
    const full = new MemoryKv();
    const errors: unknown[] = [];
    const cache = createRootCache(keys, { get: (k) => full.get(k), set: () => Promise.reject(new UnavailableError(new Error('OOM'))), del: (k) => full.del(k) }, { cost, onKvError: (err) => errors.push(err) });
    expect(await cache.rootFor(input)).toEqual(await rootOf(keys, input, cost));
    expect(errors).toHaveLength(1);
  });
});
