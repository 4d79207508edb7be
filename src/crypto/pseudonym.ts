import { createHmac, scrypt } from 'node:crypto';
import { base32 } from './base32.js';
import type { KeySchedule } from './key-schedule.js';

// The pseudonym derivation of docs/pseudonyms.md, exactly. Pure functions
// over keys and strings, except rootOf, which runs scrypt on libuv's thread
// pool so the event loop never blocks on it.

export interface ScryptCost {
  N: number;
  r: number;
  p: number;
}

/** UTF-8 of school "\0" studentKey, the key NFC-normalised. */
export function pupilInput(school: string, studentKey: string): Buffer {
  return Buffer.from(`${school}\0${studentKey.normalize('NFC')}`, 'utf8');
}

/** Node refuses scrypt above maxmem (32 MiB by default); scrypt needs 128 * N * r bytes. */
export const scryptMemoryBytes = ({ N, r }: ScryptCost): number => 128 * N * r;

export function rootOf(keys: KeySchedule, input: Buffer, cost: ScryptCost): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(input, keys.root, 32, { ...cost, maxmem: scryptMemoryBytes(cost) + 1024 * 1024 }, (err, root) => {
      if (err) reject(err);
      else resolve(root);
    });
  });
}

const hmac = (key: Uint8Array, data: Uint8Array): Buffer => createHmac('sha256', key).update(data).digest();

const pseudonym = (key: Uint8Array, data: Uint8Array): string => base32(hmac(key, data).subarray(0, 20));

/** sub = base32(HMAC(k_supplier, "subject\0" || root)[0..20)): 32 characters. */
export function subjectPseudonym(supplierKey: Uint8Array, root: Uint8Array): string {
  return pseudonym(supplierKey, Buffer.concat([Buffer.from('subject\0', 'utf8'), root]));
}

/** base32(HMAC(k_supplier, "group\0" + school + "\0" + groupKey)[0..20)). */
export function groupPseudonym(supplierKey: Uint8Array, school: string, groupKey: string): string {
  return pseudonym(supplierKey, Buffer.from(`group\0${school}\0${groupKey.normalize('NFC')}`, 'utf8'));
}

/** How durable tables name a pupil: lower-case hex of HMAC(k_ref, input). */
export function studentRef(keys: KeySchedule, input: Buffer): string {
  return hmac(keys.ref, input).toString('hex');
}

/** The shared-cache key of a pupil's root: HMAC(k_cache, input), never the input itself. */
export function rootCacheKey(keys: KeySchedule, input: Buffer): string {
  return hmac(keys.cache, input).toString('base64url');
}
