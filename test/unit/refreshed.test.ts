import { describe, expect, it } from 'vitest';
import { refreshed } from '../../src/outbound/refreshed.js';

// The keep-and-refresh policy of metadata fetched from identity providers
// (src/outbound/refreshed.ts), on a clock of the test's own.

const POLICY = { maxAgeMs: 1000, retryMs: 100, maxStaleMs: 5000 };

function source() {
  let t = 0;
  const calls: number[] = [];
  let answer: () => Promise<string> = async () => `v${calls.length}`;
  const kept = refreshed(POLICY, () => t, () => {
    calls.push(t);
    return answer();
  });
  return {
    kept, calls,
    at: (ms: number) => void (t = ms),
    fail: () => void (answer = async () => { throw new Error('down'); }),
    recover: () => void (answer = async () => `v${calls.length}`),
  };
}

describe('a value kept and refreshed', () => {
  it('fetches once while fresh, and once for callers arriving together', async () => {
    const s = source();
    expect(await Promise.all([s.kept.get(), s.kept.get()])).toEqual(['v1', 'v1']);
    s.at(999);
    expect(await s.kept.get()).toBe('v1');
    s.at(1000);
    expect(await s.kept.get()).toBe('v2');
    expect(s.calls).toEqual([0, 1000]);
  });

  it('serves the last value while the source fails, asking again only after retryMs, until it is maxStaleMs old', async () => {
    const s = source();
    await s.kept.get();
    s.fail();
    s.at(1000);
    expect(await s.kept.get()).toBe('v1');
    s.at(1099);
    expect(await s.kept.get()).toBe('v1');
    expect(s.calls).toEqual([0, 1000]);
    s.at(1100);
    expect(await s.kept.get()).toBe('v1');
    expect(s.calls).toEqual([0, 1000, 1100]);
    s.at(5000);
    await expect(s.kept.get()).rejects.toThrow('down');
    s.recover();
    s.at(5100);
    expect(await s.kept.get()).toBe('v5');
    expect(s.calls).toEqual([0, 1000, 1100, 5000, 5100]);
  });

  it('with nothing fetched yet, a failure answers at once until retryMs has passed', async () => {
    const s = source();
    s.fail();
    await expect(s.kept.get()).rejects.toThrow('down');
    s.at(50);
    await expect(s.kept.get()).rejects.toThrow('down');
    expect(s.calls).toEqual([0]);
    s.recover();
    s.at(100);
    expect(await s.kept.get()).toBe('v2');
  });
});
