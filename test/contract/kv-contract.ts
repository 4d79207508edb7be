import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kv } from '../../src/store/kv.js';

/** One contract, every adapter: the hot path relies on exactly these semantics. */
export function defineKvContract(open: () => Promise<{ kv: Kv; ttlOf?: (key: string) => Promise<number> }>) {
  let kv: Kv;
  let ttlOf: ((key: string) => Promise<number>) | undefined;
  let n = 0;
  const key = () => `contract:${process.pid}:${Date.now()}:${n++}`;

  beforeAll(async () => {
    ({ kv, ttlOf } = await open());
  });
  afterAll(async () => {
    await kv?.close();
  });

  it('sets and gets a value; a missing key reads as null', async () => {
    const k = key();
    expect(await kv.get(k)).toBeNull();
    await kv.set(k, 'v1', 10_000);
    expect(await kv.get(k)).toBe('v1');
    await kv.set(k, 'v2', 10_000);
    expect(await kv.get(k)).toBe('v2');
  });

  it('touch gives an existing key a new TTL (a sliding lifetime), and leaves an absent key absent', async () => {
    const k = key();
    await kv.set(k, 'v', 150);
    await new Promise((r) => setTimeout(r, 100));
    expect(await kv.touch(k, 150)).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    // 200 ms after the write: gone without the touch, alive with it.
    expect(await kv.get(k)).toBe('v');
    const absent = key();
    expect(await kv.touch(absent, 10_000)).toBe(false);
    expect(await kv.get(absent)).toBeNull();
    await expect(kv.touch(k, 0)).rejects.toThrow(RangeError);
  });

  it('expires a value after its TTL', async () => {
    const k = key();
    await kv.set(k, 'v', 50);
    await new Promise((r) => setTimeout(r, 120));
    expect(await kv.get(k)).toBeNull();
  });

  it('refuses a write without a positive TTL', async () => {
    await expect(kv.set(key(), 'v', 0)).rejects.toThrow(RangeError);
    await expect(kv.setIfAbsent(key(), 'v', -1)).rejects.toThrow(RangeError);
    await expect(kv.swap(key(), 'v', 1.5)).rejects.toThrow(RangeError);
  });

  it('gives every key it writes a TTL', async () => {
    if (!ttlOf) return expect(ttlOf).toBeUndefined();
    const a = key();
    const b = key();
    const c = key();
    await kv.set(a, 'v', 60_000);
    await kv.setIfAbsent(b, 'v', 60_000);
    await kv.set(c, 'v', 60_000);
    await kv.swap(c, 'w', 30_000);
    for (const k of [a, b, c]) {
      const ttl = await ttlOf(k);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60_000);
    }
  });

  it('setIfAbsent writes once: the second call sees the key', async () => {
    const k = key();
    expect(await kv.setIfAbsent(k, 'first', 10_000)).toBe(true);
    expect(await kv.setIfAbsent(k, 'second', 10_000)).toBe(false);
    expect(await kv.get(k)).toBe('first');
  });

  it('take reads and deletes', async () => {
    const k = key();
    await kv.set(k, 'v', 10_000);
    expect(await kv.take(k)).toBe('v');
    expect(await kv.take(k)).toBeNull();
    expect(await kv.get(k)).toBeNull();
  });

  it('swap replaces an existing value and returns the old one; an absent key stays absent', async () => {
    const k = key();
    expect(await kv.swap(k, 'new', 10_000)).toBeNull();
    expect(await kv.get(k)).toBeNull();
    await kv.set(k, 'old', 10_000);
    expect(await kv.swap(k, 'new', 10_000)).toBe('old');
    expect(await kv.get(k)).toBe('new');
  });

  it('del removes a key', async () => {
    const k = key();
    await kv.set(k, 'v', 10_000);
    await kv.del(k);
    expect(await kv.get(k)).toBeNull();
  });

  it('increment counts within one window, gives it a TTL, and starts a new window after it', async () => {
    const k = key();
    const other = key();
    const first = await kv.increment(k, 60_000);
    expect(first.count).toBe(1);
    expect(first.ttlMs).toBeGreaterThan(0);
    expect((await kv.increment(k, 60_000)).count).toBe(2);
    const third = await kv.increment(k, 60_000);
    expect(third.count).toBe(3);
    expect(third.ttlMs).toBeGreaterThan(0);
    expect(third.ttlMs).toBeLessThanOrEqual(60_000);
    expect((await kv.increment(other, 60_000)).count).toBe(1);
    if (ttlOf) expect(await ttlOf(k)).toBeGreaterThan(0);
    const short = key();
    await kv.increment(short, 50);
    await kv.increment(short, 50);
    await new Promise((r) => setTimeout(r, 120));
    expect((await kv.increment(short, 50)).count).toBe(1);
    await expect(kv.increment(key(), 0)).rejects.toThrow(RangeError);
  });

  it('increment counts several events at once, starting or continuing a window', async () => {
    const k = key();
    expect((await kv.increment(k, 60_000, 5)).count).toBe(5);
    expect((await kv.increment(k, 60_000)).count).toBe(6);
    expect((await kv.increment(k, 60_000, 10)).count).toBe(16);
    if (ttlOf) expect(await ttlOf(k)).toBeGreaterThan(0);
    await expect(kv.increment(key(), 60_000, 0)).rejects.toThrow(RangeError);
    await expect(kv.increment(key(), 60_000, 1.5)).rejects.toThrow(RangeError);
  });

  it('under 50-way concurrency, increment counts every call once', async () => {
    const k = key();
    const counts = await Promise.all(Array.from({ length: 50 }, () => kv.increment(k, 10_000)));
    expect(counts.map((c) => c.count).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it('ping answers', async () => {
    await expect(kv.ping()).resolves.toBeUndefined();
  });

  it('under 50-way concurrency, exactly one setIfAbsent wins', async () => {
    const k = key();
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => kv.setIfAbsent(k, `v${i}`, 10_000)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('under 50-way concurrency, exactly one take gets the value', async () => {
    const k = key();
    await kv.set(k, 'once', 10_000);
    const results = await Promise.all(Array.from({ length: 50 }, () => kv.take(k)));
    expect(results.filter((r) => r === 'once')).toHaveLength(1);
  });

  it('under 50-way concurrency, exactly one swap sees the original value', async () => {
    const k = key();
    await kv.set(k, 'original', 10_000);
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => kv.swap(k, `marker${i}`, 10_000)));
    expect(results.filter((r) => r === 'original')).toHaveLength(1);
    expect(results.filter((r) => r?.startsWith('marker'))).toHaveLength(49);
  });

  describe('step: a login request\'s single-use work in one call', () => {
    it('claims, takes, and writes its puts with the taken value appended where asked, each with its TTL', async () => {
      const [claim, take, a, b] = [key(), key(), key(), key()];
      await kv.set(take, 'pending', 10_000);
      const result = await kv.step({ claim: { key: claim, ttlMs: 20_000 }, take: { key: take }, put: [{ key: a, value: 'code~', ttlMs: 30_000, appendTaken: true }, { key: b, value: 'session', ttlMs: 40_000 }] });
      expect(result).toEqual({ fresh: true, taken: 'pending', written: true });
      expect([await kv.get(claim), await kv.get(take), await kv.get(a), await kv.get(b)]).toEqual(['1', null, 'code~pending', 'session']);
      if (ttlOf) {
        for (const [k, max] of [[claim, 20_000], [a, 30_000], [b, 40_000]] as const) {
          const ttl = await ttlOf(k);
          expect(ttl).toBeGreaterThan(max - 5_000);
          expect(ttl).toBeLessThanOrEqual(max);
        }
      }
    });

    it('a claim already there stops the step: nothing taken, nothing written', async () => {
      const [claim, take, a] = [key(), key(), key()];
      await kv.set(claim, '1', 10_000);
      await kv.set(take, 'pending', 10_000);
      expect(await kv.step({ claim: { key: claim, ttlMs: 10_000 }, take: { key: take }, put: [{ key: a, value: 'x', ttlMs: 10_000 }] }))
        .toEqual({ fresh: false, taken: null, written: false });
      expect([await kv.get(take), await kv.get(a)]).toEqual(['pending', null]);
    });

    it('nothing to take: the claim stays, no put is written', async () => {
      const [claim, take, a] = [key(), key(), key()];
      expect(await kv.step({ claim: { key: claim, ttlMs: 10_000 }, take: { key: take }, put: [{ key: a, value: 'x', ttlMs: 10_000 }] }))
        .toEqual({ fresh: true, taken: null, written: false });
      expect([await kv.get(claim), await kv.get(take), await kv.get(a)]).toEqual(['1', null, null]);
    });

    it('take with leave: the value is replaced by the used marker; a second step finds the marker and writes nothing', async () => {
      const [take, a, b] = [key(), key(), key()];
      await kv.set(take, 'grant', 10_000);
      const leave = { value: 'used:first', ttlMs: 20_000, usedPrefix: 'used:' };
      expect(await kv.step({ take: { key: take, leave }, put: [{ key: a, value: 'token~', ttlMs: 10_000, appendTaken: true }] }))
        .toEqual({ fresh: true, taken: 'grant', written: true });
      expect([await kv.get(take), await kv.get(a)]).toEqual(['used:first', 'token~grant']);
      if (ttlOf) expect(await ttlOf(take)).toBeGreaterThan(10_000);
      expect(await kv.step({ take: { key: take, leave: { ...leave, value: 'used:second' } }, put: [{ key: b, value: 'x', ttlMs: 10_000 }] }))
        .toEqual({ fresh: true, taken: 'used:first', written: false });
      expect([await kv.get(take), await kv.get(b)]).toEqual(['used:second', null]);
      // An absent key stays absent.
      const absent = key();
      expect(await kv.step({ take: { key: absent, leave }, put: [] })).toEqual({ fresh: true, taken: null, written: false });
      expect(await kv.get(absent)).toBeNull();
    });

    it('a put never overwrites: a key already there is kept and the step says not all was written', async () => {
      const [take, a, b] = [key(), key(), key()];
      await kv.set(take, 'pending', 10_000);
      await kv.set(a, 'tombstone', 10_000);
      expect(await kv.step({ take: { key: take }, put: [{ key: a, value: 'x', ttlMs: 10_000 }, { key: b, value: 'y', ttlMs: 10_000 }] }))
        .toEqual({ fresh: true, taken: 'pending', written: false });
      expect([await kv.get(a), await kv.get(b)]).toEqual(['tombstone', 'y']);
    });

    it('refuses a part without a positive TTL before running any part', async () => {
      const [claim, take] = [key(), key()];
      await kv.set(take, 'pending', 10_000);
      await expect(kv.step({ claim: { key: claim, ttlMs: 10_000 }, take: { key: take }, put: [{ key: key(), value: 'x', ttlMs: 0 }] })).rejects.toThrow(RangeError);
      expect([await kv.get(claim), await kv.get(take)]).toEqual([null, 'pending']);
    });

    it('under 50-way concurrency with one claim and one take, exactly one step takes and writes', async () => {
      const [claim, take] = [key(), key()];
      await kv.set(take, 'pending', 10_000);
      const puts = Array.from({ length: 50 }, () => key());
      const results = await Promise.all(puts.map((put) => kv.step({ claim: { key: claim, ttlMs: 10_000 }, take: { key: take }, put: [{ key: put, value: 'w', ttlMs: 10_000 }] })));
      expect(results.filter((r) => r.written)).toHaveLength(1);
      expect(results.filter((r) => r.fresh)).toHaveLength(1);
      expect((await Promise.all(puts.map((put) => kv.get(put)))).filter((v) => v !== null)).toHaveLength(1);
    });

    it('under 50-way concurrency, exactly one step takes a value it leaves a marker for', async () => {
      const take = key();
      await kv.set(take, 'grant', 10_000);
      const puts = Array.from({ length: 50 }, () => key());
      const results = await Promise.all(puts.map((put, i) => kv.step({ take: { key: take, leave: { value: `used:${i}`, ttlMs: 10_000, usedPrefix: 'used:' } }, put: [{ key: put, value: 'w', ttlMs: 10_000 }] })));
      expect(results.filter((r) => r.taken === 'grant' && r.written)).toHaveLength(1);
      expect(results.filter((r) => r.taken?.startsWith('used:') && !r.written)).toHaveLength(49);
      expect((await Promise.all(puts.map((put) => kv.get(put)))).filter((v) => v !== null)).toHaveLength(1);
    });
  });
}
