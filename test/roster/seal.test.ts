import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { createKeySchedule } from '../../src/crypto/key-schedule.js';
import { keyHash, loginHashes, lookupHash, openPerson, sealPerson } from '../../src/roster/seal.js';
import { PEOPLE } from '../../support/roster-files.js';

// The roster's keys and hashes exactly as docs/roster.md ("At rest") states them,
// recomputed with an independent implementation (@noble/hashes), and the seal's
// binding to its school and row.

const master = Uint8Array.from({ length: 32 }, (_, i) => i);
const keys = createKeySchedule(master).roster('12AB');
const utf8 = (s: string) => new TextEncoder().encode(s);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const reference = (label: string) => hkdf(sha256, master, new Uint8Array(0), utf8(label), 32);
const mac = (key: Uint8Array, text: string) => hex(hmac(sha256, key, utf8(text)));

describe('roster keys and hashes', () => {
  it('derives k_seal and k_lookup with the documented HKDF labels, per school', () => {
    expect(hex(keys.seal)).toBe(hex(reference('pgw/roster/seal/12AB')));
    expect(hex(keys.lookup)).toBe(hex(reference('pgw/roster/lookup/12AB')));
    expect(hex(createKeySchedule(master).roster('34CD01').lookup)).toBe(hex(reference('pgw/roster/lookup/34CD01')));
  });

  it('hashes the pupil key and each login (exact and lower-cased) as documented', () => {
    const lookup = reference('pgw/roster/lookup/12AB');
    expect(hex(keyHash(keys, 'Zoe\u0301'))).toBe(mac(lookup, 'key\0Zo\u00e9'));
    expect(loginHashes(keys, ['Jan@School.example']).map(hex)).toEqual([mac(lookup, 'login\0Jan@School.example'), mac(lookup, 'login-ci\0jan@school.example')]);
    expect(hex(lookupHash(keys, 'email', 'JAN@school.EXAMPLE'))).toBe(mac(lookup, 'login-ci\0jan@school.example'));
    expect(hex(lookupHash(keys, 'oid', 'Jan@School.example'))).toBe(mac(lookup, 'login\0Jan@School.example'));
  });

  it('opens a sealed person only for its own school and row', () => {
    const person = PEOPLE[0]!;
    const hash = keyHash(keys, person.studentKey);
    const sealed = sealPerson(keys, '12AB', hash, person);
    expect(openPerson(keys, '12AB', hash, sealed)).toEqual(person);
    expect(() => openPerson(keys, '12AB', keyHash(keys, PEOPLE[1]!.studentKey), sealed)).toThrow();
    expect(() => openPerson(keys, '34CD01', hash, sealed)).toThrow();
    const flipped = Buffer.from(sealed);
    flipped[20] = flipped[20]! ^ 1;
    expect(() => openPerson(keys, '12AB', hash, flipped)).toThrow();
    expect(sealPerson(keys, '12AB', hash, person).equals(sealed)).toBe(false);
  });
});
