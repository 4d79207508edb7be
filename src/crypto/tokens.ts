import { createCipheriv, createDecipheriv, hash, randomFillSync, timingSafeEqual } from 'node:crypto';

// Random bytes come from the CSPRNG a pool at a time: one call into OpenSSL per
// 4 KiB instead of one per value (each call costs microseconds). Every byte is
// handed out once; the pool is refilled, never reused.
const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let poolOffset = POOL_BYTES;

/** Where the next `n` (<= 4096) unused random bytes start in the pool. */
function take(n: number): number {
  if (poolOffset + n > POOL_BYTES) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  poolOffset += n;
  return poolOffset - n;
}

/** `n` fresh random bytes, copied out of the pool. */
export function randomBytesPooled(n: number): Buffer {
  const start = take(n);
  return Buffer.from(pool.subarray(start, start + n));
}

/** 256 random bits, base64url: codes, access tokens, login nonces (RFC 6749 section 10.10 asks >= 128). */
export function randomToken(): string {
  const start = take(32);
  return pool.toString('base64url', start, start + 32);
}

// SHA-256 in one call (strings as UTF-8). A Hash object per value is a native
// handle that every young-generation GC must visit, and a login hashes about a
// dozen values: those handles were a third of each scavenge's pause.
export const sha256 = (data: string | Buffer): Buffer => hash('sha256', data, 'buffer');

/** Where a bearer value is stored: its SHA-256, so a KV dump holds no usable code or token. */
export const tokenHash = (token: string): string => hash('sha256', token, 'base64url');

/** Constant-time equality of two strings (verifiers, secrets, hashes). */
export function constantEqual(a: string | Buffer, b: string | Buffer): boolean {
  // Compare digests so unequal lengths take the same time and never throw.
  return timingSafeEqual(sha256(a), sha256(b));
}

// Sealing: a code's or token's record is encrypted under a key derived from
// the code or token itself, which only its bearer has. A copy of Redis then
// reveals neither the pupil's released claims nor a usable credential.

// The token already holds 256 random bits, so one domain-separated hash is a
// sound key derivation (HKDF adds nothing for uniform input).
const sealKey = (token: string): Buffer => sha256(`pgw/seal\0${token}`);

export function seal(token: string, value: unknown): string {
  return `s1.${encrypt(sealKey(token), Buffer.from(JSON.stringify(value), 'utf8')).toString('base64url')}`;
}

/** The sealed value, or undefined when it is not a sealed value for this token. */
export function unseal<T>(token: string, sealed: string): T | undefined {
  if (!sealed.startsWith('s1.')) return undefined;
  const plain = decrypt(sealKey(token), Buffer.from(sealed.slice(3), 'base64url'));
  if (plain === undefined) return undefined;
  try {
    return JSON.parse(plain.toString('utf8')) as T;
  } catch {
    return undefined;
  }
}

/** AES-256-GCM under `key`, bound to `aad`: iv (12 bytes), tag (16), ciphertext. */
export function encrypt(key: Buffer, plain: Buffer, aad?: Buffer): Buffer {
  const iv = randomBytesPooled(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  if (aad) cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

/** What encrypt() sealed under `key` and `aad`; undefined when it was not (wrong key, altered, too short). */
export function decrypt(key: Buffer, raw: Buffer, aad?: Buffer): Buffer | undefined {
  if (raw.length < 28) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
    if (aad) decipher.setAAD(aad);
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]);
  } catch {
    return undefined;
  }
}
