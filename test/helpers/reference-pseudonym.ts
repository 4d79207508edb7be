// An independent implementation of docs/pseudonyms.md, written from the text
// with @noble/hashes (not node:crypto), to cross-check src/crypto and to
// produce the published test vectors.
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { scrypt } from '@noble/hashes/scrypt.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';

const key = (master: Uint8Array, info: string) => hkdf(sha256, master, new Uint8Array(0), utf8ToBytes(info), 32);

function base32Lower(bytes: Uint8Array): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let bits = '';
  for (const b of bytes) bits += b.toString(2).padStart(8, '0');
  let out = '';
  for (let i = 0; i < bits.length; i += 5) out += alphabet[parseInt(bits.slice(i, i + 5).padEnd(5, '0'), 2)];
  return out;
}

export interface ReferenceCase {
  master: Uint8Array;
  school: string;
  studentKey: string;
  supplier: string;
  version: number;
  group: string;
  N: number;
  r: number;
  p: number;
}

/** A pupil's student ref and its first form, from the text alone (scrypt cost as the gateway's). */
export function referenceRefs(c: Pick<ReferenceCase, 'master' | 'school' | 'studentKey' | 'N' | 'r' | 'p'>): { ref: string; legacyRef: string } {
  const { ref, legacyRef } = referencePseudonyms({ ...c, supplier: 'any', version: 1, group: '' });
  return { ref, legacyRef };
}

export function referencePseudonyms(c: ReferenceCase) {
  const input = utf8ToBytes(`${c.school}\0${c.studentKey.normalize('NFC')}`);
  const root = scrypt(input, key(c.master, 'pgw/root'), { N: c.N, r: c.r, p: c.p, dkLen: 32 });
  const kSupplier = key(c.master, `pgw/supplier/v${c.version}/${c.supplier}`);
  const subjectInput = new Uint8Array([...utf8ToBytes('subject\0'), ...root]);
  return {
    root: bytesToHex(root),
    sub: base32Lower(hmac(sha256, kSupplier, subjectInput).slice(0, 20)),
    group: base32Lower(hmac(sha256, kSupplier, utf8ToBytes(`group\0${c.school}\0${c.group}`)).slice(0, 20)),
    ref: bytesToHex(hmac(sha256, key(c.master, 'pgw/ref'), new Uint8Array([...utf8ToBytes('ref\0'), ...root]))),
    /** The ref's first form (until 2026-12), kept only to test the transition. */
    legacyRef: bytesToHex(hmac(sha256, key(c.master, 'pgw/ref'), input)),
  };
}
