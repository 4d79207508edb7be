import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { constantEqual, randomToken, seal, sha256, tokenHash, unseal } from '../../src/crypto/tokens.js';

// Codes, tokens and sessions are stored under these hashes and sealed under
// these keys: a rolling deploy has old and new processes reading each other's
// records, so the bytes must never change.

describe('sha256 and tokenHash', () => {
  it('match the FIPS 180-2 vector for "abc"', () => {
    expect(sha256('abc').toString('hex')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(tokenHash('abc')).toBe(Buffer.from('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', 'hex').toString('base64url'));
  });

  it('hash strings as UTF-8 and buffers as their bytes', () => {
    const text = 'Zoë\0groep 8·a 🙂';
    expect(sha256(text)).toEqual(createHash('sha256').update(Buffer.from(text, 'utf8')).digest());
    expect(tokenHash(text)).toBe(createHash('sha256').update(text, 'utf8').digest('base64url'));
    const bytes = randomBytes(77);
    expect(sha256(bytes)).toEqual(createHash('sha256').update(bytes).digest());
  });
});

describe('constantEqual', () => {
  it('is true only for equal values, whatever their lengths or types', () => {
    expect(constantEqual('verifier', 'verifier')).toBe(true);
    expect(constantEqual('verifier', Buffer.from('verifier'))).toBe(true);
    expect(constantEqual('verifier', 'verifieR')).toBe(false);
    expect(constantEqual('verifier', 'verifier-longer')).toBe(false);
    expect(constantEqual('', 'x')).toBe(false);
  });
});

describe('seal', () => {
  it('opens only with the token it was sealed under', () => {
    const token = randomToken();
    const sealed = seal(token, { sub: 'abc', claims: { grade: 8 } });
    expect(unseal(token, sealed)).toEqual({ sub: 'abc', claims: { grade: 8 } });
    expect(unseal(randomToken(), sealed)).toBeUndefined();
    const raw = Buffer.from(sealed.slice(3), 'base64url');
    raw[raw.length - 1]! ^= 1;
    expect(unseal(token, `s1.${raw.toString('base64url')}`)).toBeUndefined();
    expect(unseal(token, 'not sealed')).toBeUndefined();
  });

  it('opens a record sealed by the earlier key derivation (a hash object fed the domain, then the token)', () => {
    const token = randomToken();
    const key = createHash('sha256').update('pgw/seal\0').update(token, 'utf8').digest();
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify({ clientId: 'rekenapp' }), 'utf8'), cipher.final()]);
    const sealed = `s1.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`;
    expect(unseal(token, sealed)).toEqual({ clientId: 'rekenapp' });
  });
});
