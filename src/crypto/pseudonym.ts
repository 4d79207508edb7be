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

declare const rootBrand: unique symbol;
/**
 * A pupil's scrypt root: what every pseudonym and the student ref are derived from. Only
 * rootOf (and the root cache) make one, so the cheap input can never stand in for it.
 */
export type PupilRoot = Buffer & { readonly [rootBrand]: true };

/** Node refuses scrypt above maxmem (32 MiB by default); scrypt needs 128 * N * r bytes. */
export const scryptMemoryBytes = ({ N, r }: ScryptCost): number => 128 * N * r;

export function rootOf(keys: KeySchedule, input: Buffer, cost: ScryptCost): Promise<PupilRoot> {
  return new Promise((resolve, reject) => {
    scrypt(input, keys.root, 32, { ...cost, maxmem: scryptMemoryBytes(cost) + 1024 * 1024 }, (err, root) => {
      if (err) reject(err);
      else resolve(root as PupilRoot);
    });
  });
}

const hmac = (key: Uint8Array, data: Uint8Array): Buffer => createHmac('sha256', key).update(data).digest();

const pseudonym = (key: Uint8Array, data: Uint8Array): string => base32(hmac(key, data).subarray(0, 20));

/** sub = base32(HMAC(k_supplier, "subject\0" || root)[0..20)): 32 characters. */
export function subjectPseudonym(supplierKey: Uint8Array, root: PupilRoot): string {
  return pseudonym(supplierKey, Buffer.concat([Buffer.from('subject\0', 'utf8'), root]));
}

/** base32(HMAC(k_supplier, "group\0" + school + "\0" + groupKey)[0..20)). */
export function groupPseudonym(supplierKey: Uint8Array, school: string, groupKey: string): string {
  return pseudonym(supplierKey, Buffer.from(`group\0${school}\0${groupKey.normalize('NFC')}`, 'utf8'));
}

const REF_LABEL = Buffer.from('ref\0', 'utf8');

/**
 * How durable tables name a pupil: lower-case hex of HMAC(k_ref, "ref\0" || root).
 * From the root, so a guessed key costs one scrypt to test against a table (docs/pseudonyms.md).
 */
export function studentRef(keys: KeySchedule, root: PupilRoot): string {
  return hmac(keys.ref, Buffer.concat([REF_LABEL, root])).toString('hex');
}

/**
 * The ref's first form, HMAC(k_ref, input), written until 2026-12: one HMAC per guess.
 * Only ever computed to find and move rows still named by it (docs/pseudonyms.md, "The transition").
 */
export function legacyStudentRef(keys: KeySchedule, input: Buffer): string {
  return hmac(keys.ref, input).toString('hex');
}

/** A pupil's ref, and its first form computed only when something asks for it. */
export interface PupilRefs {
  readonly ref: string;
  legacy(): string;
}

/** Every ref a pupil's rows may carry during the transition: the ref, then its first form. */
export const refsToSearch = (pupil: PupilRefs): [string, string] => [pupil.ref, pupil.legacy()];

export function pupilRefs(keys: KeySchedule, input: Buffer, root: PupilRoot): PupilRefs {
  let legacy: string | undefined;
  return { ref: studentRef(keys, root), legacy: () => (legacy ??= legacyStudentRef(keys, input)) };
}

/** The shared-cache key of a pupil's root: HMAC(k_cache, input), never the input itself. */
export function rootCacheKey(keys: KeySchedule, input: Buffer): string {
  return hmac(keys.cache, input).toString('base64url');
}
