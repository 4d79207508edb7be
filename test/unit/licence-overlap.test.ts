import { expect, it } from 'vitest';
import { periodsOverlap } from '../../src/store/licences.js';

// Two licences of one school for one client may not be valid on the same day; absent bounds are open.
it.each([
  [{}, {}, true],
  [{ validFrom: '2026-01-01', validUntil: '2026-12-31' }, { validFrom: '2027-01-01' }, false],
  [{ validFrom: '2026-01-01', validUntil: '2026-12-31' }, { validUntil: '2026-01-01' }, true],
  [{ validUntil: '2025-12-31' }, { validFrom: '2026-01-01', validUntil: '2026-02-01' }, false],
  [{ validFrom: '2026-03-01', validUntil: '2026-03-31' }, { validFrom: '2026-03-31', validUntil: '2026-04-30' }, true],
])('periodsOverlap(%j, %j) is %s', (a, b, expected) => {
  expect(periodsOverlap(a, b)).toBe(expected);
  expect(periodsOverlap(b, a)).toBe(expected);
});
