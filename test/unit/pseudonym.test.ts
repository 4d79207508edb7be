import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { base32 } from '../../src/crypto/base32.js';
import { createKeySchedule } from '../../src/crypto/key-schedule.js';
import { groupPseudonym, legacyStudentRef, pupilInput, pupilRefs, rootOf, studentRef, subjectPseudonym } from '../../src/crypto/pseudonym.js';
import { referencePseudonyms } from '../helpers/reference-pseudonym.js';

// The published test vectors (docs/pseudonyms.md), produced by the independent
// @noble/hashes implementation in test/helpers/reference-pseudonym.ts.
// master = bytes 0x00..0x1f; scrypt N = 2^15, r = 8, p = 1 (the defaults).
const MASTER = Uint8Array.from({ length: 32 }, (_, i) => i);
const DEFAULT_COST = { N: 2 ** 15, r: 8, p: 1 };
const VECTORS = [
  { school: '12AB', studentKey: '4711', supplier: 'uitgever-a', version: 1, group: '8a',
    sub: 'ayuwtak63urbhcbanqfdflx5ozwgdopb', groupPseudonym: 'jahtvrobmeyichj3iuyysylxvuzqzdr6',
    ref: '4d7de9b9c9ea41db618de487f4efa0a433e7d7b1fa8f795a28401e9010ac64c0', legacyRef: '1b877f620bee495b1092e453030f128d39a72cab0823caac1c8ea35d7b53f530' },
  { school: '12AB', studentKey: '4711', supplier: 'uitgever-b', version: 1, group: '8a',
    sub: 'euxkgceav4qh6riqynbmabpgt7jfnodm', groupPseudonym: 'bgkyzbqneupm63hw7hcvf7xrm3xwz64q',
    ref: '4d7de9b9c9ea41db618de487f4efa0a433e7d7b1fa8f795a28401e9010ac64c0', legacyRef: '1b877f620bee495b1092e453030f128d39a72cab0823caac1c8ea35d7b53f530' },
  { school: '12AB', studentKey: '4711', supplier: 'uitgever-a', version: 2, group: '8a',
    sub: 'hoisoh6ifsebgwfgifcprzaxk2xhlswg', groupPseudonym: '6dnltjgcqngsq7c6lj7gvo5lx2d3aijl',
    ref: '4d7de9b9c9ea41db618de487f4efa0a433e7d7b1fa8f795a28401e9010ac64c0', legacyRef: '1b877f620bee495b1092e453030f128d39a72cab0823caac1c8ea35d7b53f530' },
  // NFD input ("o" + combining diaeresis) must give the NFC result.
  { school: '12AB01', studentKey: 'Jo\u0308ran-u\u0308', supplier: 'uitgever-a', version: 1, group: 'Groep 5/6',
    sub: 'vdzcimxvckptdl2ixutvjtojl6a4ryti', groupPseudonym: '72pfu4oqs6qel4pusddgswgpss3cewqw',
    ref: '2551d32efcc59e88b31c705451da86463f495f0ed5d7dd938590a63e928c0f97', legacyRef: 'a19ab1ff6ffc4bda9ed84e6ff0077904e199a1b78e0676a3a9825bfa18b88233' },
];

describe('pseudonym derivation (docs/pseudonyms.md)', () => {
  const keys = createKeySchedule(MASTER);

  it.each(VECTORS)('matches the published vector for $school / $supplier v$version', async (v) => {
    const input = pupilInput(v.school, v.studentKey);
    const root = await rootOf(keys, input, DEFAULT_COST);
    const supplierKey = keys.supplier(v.supplier, v.version);
    expect(subjectPseudonym(supplierKey, root)).toBe(v.sub);
    expect(groupPseudonym(supplierKey, v.school, v.group)).toBe(v.groupPseudonym);
    expect(studentRef(keys, root)).toBe(v.ref);
    expect(legacyStudentRef(keys, input)).toBe(v.legacyRef);
    const refs = pupilRefs(keys, input, root);
    expect({ ref: refs.ref, legacy: refs.legacy() }).toEqual({ ref: v.ref, legacy: v.legacyRef });
  });

  it('agrees with the independent reference implementation on random inputs', async () => {
    for (let i = 0; i < 5; i++) {
      const master = randomBytes(32 + i);
      const c = { master, school: '99ZZ', studentKey: randomBytes(6).toString('base64'), supplier: `s-${i}x`, version: 1 + i, group: `g${i}`, N: 256, r: 8, p: 1 };
      const own = createKeySchedule(master);
      const input = pupilInput(c.school, c.studentKey);
      const root = await rootOf(own, input, c);
      const ref = referencePseudonyms(c);
      expect(root.toString('hex')).toBe(ref.root);
      expect(subjectPseudonym(own.supplier(c.supplier, c.version), root)).toBe(ref.sub);
      expect(groupPseudonym(own.supplier(c.supplier, c.version), c.school, c.group)).toBe(ref.group);
      expect(studentRef(own, root)).toBe(ref.ref);
      expect(legacyStudentRef(own, input)).toBe(ref.legacyRef);
    }
  });

  it('refuses a master key shorter than 32 bytes', () => {
    expect(() => createKeySchedule(new Uint8Array(31))).toThrow(RangeError);
  });
});

describe('base32 (RFC 4648 section 10 vectors, lower case, no padding)', () => {
  it.each([
    ['', ''], ['f', 'my'], ['fo', 'mzxq'], ['foo', 'mzxw6'], ['foob', 'mzxw6yq'], ['fooba', 'mzxw6ytb'], ['foobar', 'mzxw6ytboi'],
  ])('%j -> %j', (input, output) => {
    expect(base32(Buffer.from(input, 'utf8'))).toBe(output);
  });

  it('turns 20 bytes into 32 characters of a-z2-7', () => {
    expect(base32(randomBytes(20))).toMatch(/^[a-z2-7]{32}$/);
  });
});
