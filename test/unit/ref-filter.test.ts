import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createRefFilter } from '../../src/privacy/ref-filter.js';

// The transition's filter of first-form refs (src/privacy/ref-transition.ts):
// a ref it was given is always found (a miss would leave a pupil's old rows
// unmoved), and about 1 in 100 others is a false "maybe" (one wasted query).

const refs = (n: number) => Array.from({ length: n }, () => randomBytes(32).toString('hex'));

describe('ref filter', () => {
  it('finds every ref it holds, and says "maybe" for about 1 % of the others', () => {
    const held = refs(20_000);
    const filter = createRefFilter(held.length);
    for (const ref of held) filter.add(ref);
    expect(filter.size).toBe(20_000);
    expect(held.filter((ref) => !filter.mayHold(ref))).toEqual([]);
    const falseMaybes = refs(20_000).filter((ref) => filter.mayHold(ref)).length;
    expect(falseMaybes).toBeLessThan(20_000 * 0.02);
  });

  it('holds nothing when empty, and refuses what is not a ref', () => {
    const filter = createRefFilter(0);
    expect(filter.size).toBe(0);
    expect(refs(1_000).some((ref) => filter.mayHold(ref))).toBe(false);
    expect(() => filter.add('not-a-ref')).toThrow(RangeError);
    expect(() => filter.mayHold('A'.repeat(64))).toThrow(RangeError);
  });
});
