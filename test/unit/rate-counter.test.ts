import { afterEach, describe, expect, it } from 'vitest';
import { createRateCounter, perMinute, RATE_LIMIT_PREFIX, type RateCounter } from '../../src/ops/rate-limit.js';
import { UnavailableError } from '../../src/errors.js';
import { MemoryKv } from '../../src/store/memory-kv.js';
import { TestClock } from '../helpers/clock.js';

// The rate counter counts exactly near a limit and in batches far below it,
// sharing its counts through the KV (src/ops/rate-limit.ts).

/** A KV that counts its increment calls and can be made to fail. */
function countingKv(clock: TestClock) {
  const kv = new MemoryKv(clock);
  const stats = { calls: 0, failing: false };
  const increment = kv.increment.bind(kv);
  kv.increment = async (key, windowMs, by) => {
    if (stats.failing) throw new UnavailableError(new Error('kv away'));
    stats.calls++;
    return increment(key, windowMs, by);
  };
  return { kv, stats };
}

describe('rate counter', () => {
  const limit = perMinute('test', 100);
  const shared = `${RATE_LIMIT_PREFIX}test:k`;
  const counters: RateCounter[] = [];
  const open = (kv: MemoryKv, clock: TestClock) => {
    // Flushed by the tests only: the timer must not add calls while a test counts them.
    const c = createRateCounter(kv, clock, undefined, 3_600_000);
    counters.push(c);
    return c;
  };
  afterEach(async () => {
    for (const c of counters.splice(0)) await c.close();
  });

  it('counts far below the limit in the process, adding the counts to the shared counter in one call', async () => {
    const clock = new TestClock();
    const { kv, stats } = countingKv(clock);
    const counter = open(kv, clock);
    const counts = [];
    for (let i = 0; i < 40; i++) counts.push((await counter.hit(limit, 'k')).count);
    expect(counts).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    // The first hit of the window is synchronous; the other 39 wait for the flush.
    expect(stats.calls).toBe(1);
    await counter.flush();
    expect(stats.calls).toBe(2);
    expect((await kv.increment(shared, 60_000, 1)).count).toBe(41);
  });

  it('counts exactly from half the limit on, so the limit holds to the request', async () => {
    const clock = new TestClock();
    const { kv, stats } = countingKv(clock);
    const counter = open(kv, clock);
    const counts = [];
    for (let i = 0; i < 120; i++) counts.push((await counter.hit(limit, 'k')).count);
    expect(counts).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    expect(counts.filter((c) => c > limit.max)).toHaveLength(20);
    // 1 first hit + 1 catching up the 48 batched + one per hit from 50 on.
    expect(stats.calls).toBe(1 + 71);
  });

  it('sees what other processes counted, at the latest at its next exact count', async () => {
    const clock = new TestClock();
    const { kv } = countingKv(clock);
    const a = open(kv, clock);
    const b = open(kv, clock);
    for (let i = 0; i < 30; i++) await a.hit(limit, 'k');
    for (let i = 0; i < 30; i++) await b.hit(limit, 'k');
    await Promise.all([a.flush(), b.flush()]);
    // Both batches are in the shared counter; a learns b's 30 on its next exact count.
    let last = 0;
    for (let i = 0; i < 41; i++) last = (await a.hit(limit, 'k')).count;
    expect(last).toBe(101);
  });

  it('starts a new window when the old one ends', async () => {
    const clock = new TestClock();
    const { kv } = countingKv(clock);
    const counter = open(kv, clock);
    for (let i = 0; i < 10; i++) await counter.hit(limit, 'k');
    clock.advance(60_001);
    expect((await counter.hit(limit, 'k')).count).toBe(1);
  });

  it('fails closed when the KV is away for an exact count, and keeps batched counts it could not add', async () => {
    const clock = new TestClock();
    const { kv, stats } = countingKv(clock);
    const counter = open(kv, clock);
    for (let i = 0; i < 10; i++) await counter.hit(limit, 'k');
    stats.failing = true;
    await counter.flush();
    await expect(open(kv, clock).hit(limit, 'k')).rejects.toBeInstanceOf(UnavailableError);
    stats.failing = false;
    await counter.flush();
    expect((await kv.increment(shared, 60_000, 1)).count).toBe(11);
  });
});
