import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import type { RosterKeys } from '../crypto/key-schedule.js';
import { canonicalPerson, personSchema, asRosterPerson, type RosterPerson } from './person.js';

// How the roster keeps a person at rest (docs/roster.md, "At rest"):
//   key_hash   = HMAC-SHA256(k_lookup, "key\0" || NFC(studentKey))
//   login hash = HMAC-SHA256(k_lookup, "login\0" || NFC(v)), and
//                HMAC-SHA256(k_lookup, "login-ci\0" || lower(NFC(v)))
//   sealed     = 0x01 || nonce(12) || AES-256-GCM(k_seal, nonce, canonical JSON,
//                aad = "pgw/roster\0" || school || "\0" || key_hash) || tag(16)
// k_lookup and k_seal are the school's roster keys (crypto/key-schedule.ts).

const VERSION = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** The upstream identifier kinds a login may look a person up by (the school's `identityClaim`). */
export type IdentifierKind = 'sub' | 'oid' | 'email' | 'preferred_username';

/** E-mail addresses and user names compare case-insensitively; `sub` and `oid` exactly. */
export const CASE_INSENSITIVE: ReadonlySet<IdentifierKind> = new Set(['email', 'preferred_username']);

const hmac = (key: Uint8Array, label: string, value: string): Buffer => createHmac('sha256', key).update(`${label}\0${value}`, 'utf8').digest();

export const keyHash = (keys: RosterKeys, studentKey: string): Buffer => hmac(keys.lookup, 'key', studentKey.normalize('NFC'));

const exactLoginHash = (keys: RosterKeys, login: string): Buffer => hmac(keys.lookup, 'login', login.normalize('NFC'));
const foldedLoginHash = (keys: RosterKeys, login: string): Buffer => hmac(keys.lookup, 'login-ci', login.normalize('NFC').toLowerCase());

/** Both hashes of every login of a person: what the roster stores to find them. */
export const loginHashes = (keys: RosterKeys, logins: readonly string[]): Buffer[] => logins.flatMap((l) => [exactLoginHash(keys, l), foldedLoginHash(keys, l)]);

/** The hash a login looks up, by the kind of identifier the upstream sent. */
export const lookupHash = (keys: RosterKeys, kind: IdentifierKind, value: string): Buffer =>
  CASE_INSENSITIVE.has(kind) ? foldedLoginHash(keys, value) : exactLoginHash(keys, value);

/** Does the person carry this identifier (the check that a login row points at the right person)? */
export function hasLogin(person: RosterPerson, kind: IdentifierKind, value: string): boolean {
  const fold = (s: string) => (CASE_INSENSITIVE.has(kind) ? s.normalize('NFC').toLowerCase() : s.normalize('NFC'));
  const wanted = fold(value);
  return person.logins.some((l) => fold(l) === wanted);
}

const aad = (school: string, hash: Uint8Array) => Buffer.concat([Buffer.from(`pgw/roster\0${school}\0`, 'utf8'), hash]);

export function sealPerson(keys: RosterKeys, school: string, hash: Uint8Array, person: RosterPerson): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keys.seal, nonce).setAAD(aad(school, hash));
  const body = Buffer.concat([cipher.update(canonicalPerson(person), 'utf8'), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), nonce, body, cipher.getAuthTag()]);
}

/** The canonical JSON in a sealed box; throws when the box was not sealed for this school and key hash (or was altered). */
export function openSealed(keys: RosterKeys, school: string, hash: Uint8Array, sealed: Uint8Array): string {
  const box = Buffer.from(sealed);
  if (box.length < 1 + NONCE_BYTES + TAG_BYTES || box[0] !== VERSION) throw new Error('roster entry in an unknown format');
  const decipher = createDecipheriv('aes-256-gcm', keys.seal, box.subarray(1, 1 + NONCE_BYTES)).setAAD(aad(school, hash));
  decipher.setAuthTag(box.subarray(box.length - TAG_BYTES));
  return Buffer.concat([decipher.update(box.subarray(1 + NONCE_BYTES, box.length - TAG_BYTES)), decipher.final()]).toString('utf8');
}

export const openPerson = (keys: RosterKeys, school: string, hash: Uint8Array, sealed: Uint8Array): RosterPerson =>
  asRosterPerson(personSchema.parse(JSON.parse(openSealed(keys, school, hash, sealed))));
