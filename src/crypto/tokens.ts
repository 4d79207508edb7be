import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 256 random bits, base64url: codes, access tokens, login nonces (RFC 6749 section 10.10 asks >= 128). */
export const randomToken = (): string => randomBytes(32).toString('base64url');

/** Where a bearer value is stored: its SHA-256, so a KV dump holds no usable code or token. */
export const tokenHash = (token: string): string => createHash('sha256').update(token, 'utf8').digest('base64url');

/** Constant-time equality of two strings (verifiers, secrets, hashes). */
export function constantEqual(a: string | Buffer, b: string | Buffer): boolean {
  const x = typeof a === 'string' ? Buffer.from(a, 'utf8') : a;
  const y = typeof b === 'string' ? Buffer.from(b, 'utf8') : b;
  // Compare digests so unequal lengths take the same time and never throw.
  return timingSafeEqual(createHash('sha256').update(x).digest(), createHash('sha256').update(y).digest());
}

// Sealing: a code's or token's record is encrypted under a key derived from
// the code or token itself, which only its bearer has. A copy of Redis then
// reveals neither the pupil's released claims nor a usable credential.

// The token already holds 256 random bits, so one domain-separated hash is a
// sound key derivation (HKDF adds nothing for uniform input).
const sealKey = (token: string): Buffer => createHash('sha256').update('pgw/seal\0').update(token, 'utf8').digest();

export function seal(token: string, value: unknown): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', sealKey(token), iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return `s1.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`;
}

/** The sealed value, or undefined when it is not a sealed value for this token. */
export function unseal<T>(token: string, sealed: string): T | undefined {
  if (!sealed.startsWith('s1.')) return undefined;
  const raw = Buffer.from(sealed.slice(3), 'base64url');
  if (raw.length < 29) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', sealKey(token), raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return JSON.parse(Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8')) as T;
  } catch {
    return undefined;
  }
}
