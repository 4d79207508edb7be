import { generateKeyPairSync, sign } from 'node:crypto';
import { compactVerify, createLocalJWKSet, importJWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { PageError } from '../../src/errors.js';
import { verifyAssertion, type AssertionContext } from '../../src/school/verify-assertion.js';
import type { AssertionSchool } from '../../src/store/registry.js';
import { G, inv, keyForSignature, liftX, multiply, N, negate, P, publicJwk, toBytes32, type Point } from '../helpers/p256.js';

// ECDSA P-256 (ES256, P1363 encoding) edge cases in the manner of Project
// Wycheproof's ecdsa_secp256r1_sha256_p1363 vectors, through the school
// assertion verifier (src/school/verify-assertion.ts) and, as a cross-check,
// through jose. No npm package ships the Wycheproof files, and tests download
// nothing, so the vectors are generated here: a chosen (r, s) becomes a valid
// signature under a public key derived for it (test/helpers/p256.ts), exactly
// how Wycheproof builds its special-value cases; the invalid ones are the
// valid ones with r or s out of range, re-encoded, truncated or flipped.

const ISSUER = 'https://idp.wycheproof.example';
const GATEWAY = 'https://gateway.example';
const NOW_S = 1_900_000_000;

interface Vector {
  readonly name: string;
  readonly valid: boolean;
  readonly token: string;
  readonly jwk: Record<string, string>;
}

const b64 = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');

let serial = 0;
/** The signing input of a well-formed assertion whose only question is its signature. */
function signingInput(kid: string): string {
  const header = { alg: 'ES256', kid, typ: 'school-assertion+jwt' };
  const payload = { iss: ISSUER, aud: GATEWAY, iat: NOW_S, exp: NOW_S + 120, jti: `v-${serial++}`, school: '12AB', sub: 'leerling-1', role: 'student', nonce: 'n' };
  return `${b64(header)}.${b64(payload)}`;
}

const rs = (r: bigint, s: bigint): Buffer => Buffer.concat([toBytes32(r), toBytes32(s)]);
const token = (input: string, signature: Buffer): string => `${input}.${signature.toString('base64url')}`;

/** A vector whose key is chosen so that (r, s) verifies over its signing input (R's x is rX). */
function chosen(name: string, r: bigint, s: bigint, rX: bigint = r): Vector | undefined {
  const kid = `k${serial}`;
  const input = signingInput(kid);
  const q = keyForSignature(input, r, s, rX);
  return q && { name, valid: true, token: token(input, rs(r, s)), jwk: publicJwk(q, kid) };
}

/** The same signing input and key with another signature: expected invalid. */
const altered = (base: Vector, name: string, signature: (sig: Buffer) => Buffer): Vector => {
  const [h, p, s] = base.token.split('.') as [string, string, string];
  return { name, valid: false, token: token(`${h}.${p}`, signature(Buffer.from(s, 'base64url'))), jwk: base.jwk };
};

const rOf = (sig: Buffer) => BigInt(`0x${sig.subarray(0, 32).toString('hex')}`);
const sOf = (sig: Buffer) => BigInt(`0x${sig.subarray(32).toString('hex')}`);
const flip = (sig: Buffer, byte: number): Buffer => {
  const copy = Buffer.from(sig);
  copy[byte]! ^= 0x01;
  return copy;
};

function buildVectors(): Vector[] {
  const vectors: Vector[] = [];
  // A signature made by OpenSSL (node:crypto), under its own key.
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = `k${serial}`;
  const input = signingInput(kid);
  const made: Vector = {
    name: 'valid: signed by node:crypto',
    valid: true,
    token: token(input, sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' })),
    jwk: { ...(publicKey.export({ format: 'jwk' }) as Record<string, string>), kid, alg: 'ES256' },
  };
  vectors.push(made);
  const sig = Buffer.from(made.token.split('.')[2]!, 'base64url');
  const [r, s] = [rOf(sig), sOf(sig)];

  vectors.push({ ...altered(made, 'valid: s replaced by n - s (ECDSA is malleable; RFC 7518 does not ask for low S)', () => rs(r, N - s)), valid: true });
  vectors.push(altered(made, 'invalid: r = 0', () => rs(0n, s)));
  vectors.push(altered(made, 'invalid: s = 0', () => rs(r, 0n)));
  vectors.push(altered(made, 'invalid: r = s = 0', () => rs(0n, 0n)));
  vectors.push(altered(made, 'invalid: r = n', () => rs(N, s)));
  vectors.push(altered(made, 'invalid: s = n', () => rs(r, N)));
  vectors.push(altered(made, 'invalid: r = p', () => rs(P, s)));
  vectors.push(altered(made, 'invalid: s = p', () => rs(r, P)));
  vectors.push(altered(made, 'invalid: r and s swapped', () => rs(s, r)));
  vectors.push(altered(made, 'invalid: s replaced by its inverse', () => rs(r, inv(s, N))));
  vectors.push(altered(made, 'invalid: one bit of r flipped', (x) => flip(x, 31)));
  vectors.push(altered(made, 'invalid: one bit of s flipped', (x) => flip(x, 63)));
  vectors.push(altered(made, 'invalid: 63 bytes (last byte cut)', (x) => x.subarray(0, 63)));
  vectors.push(altered(made, 'invalid: 65 bytes (a zero appended)', (x) => Buffer.concat([x, Buffer.alloc(1)])));
  vectors.push(altered(made, 'invalid: 65 bytes (a zero prepended)', (x) => Buffer.concat([Buffer.alloc(1), x])));
  vectors.push(altered(made, 'invalid: 32 bytes (r only)', (x) => x.subarray(0, 32)));
  vectors.push(altered(made, 'invalid: 64 zero bytes', () => Buffer.alloc(64)));
  vectors.push(altered(made, 'invalid: 64 bytes 0xff', () => Buffer.alloc(64, 0xff)));
  vectors.push(altered(made, 'invalid: the same signature DER-encoded (JWS wants R || S)', () => sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'der' })));
  vectors.push(altered(made, 'invalid: a valid signature of another message', () => sign('sha256', Buffer.from(`${input}x`), { key: privateKey, dsaEncoding: 'ieee-p1363' })));
  {
    const [h, , sg] = made.token.split('.') as [string, string, string];
    const signed = JSON.parse(Buffer.from(made.token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    const payload = b64({ ...signed, sub: 'leerling-2' });
    vectors.push({ name: 'invalid: payload changed after signing', valid: false, token: `${h}.${payload}.${sg}`, jwk: made.jwk });
  }
  {
    const q: Point = { x: BigInt(`0x${Buffer.from(made.jwk.x!, 'base64url').toString('hex')}`), y: BigInt(`0x${Buffer.from(made.jwk.y!, 'base64url').toString('hex')}`) };
    vectors.push({ name: 'invalid: the right signature under the negated public key -Q', valid: false, token: made.token, jwk: publicJwk(negate(q), made.jwk.kid!) });
    vectors.push({ name: 'invalid: a public key that is not on the curve (y + 1)', valid: false, token: made.token, jwk: publicJwk({ x: q.x, y: (q.y + 1n) % P }, made.jwk.kid!) });
  }

  // Special values of r and s. Where a point has x = r (or x = r + n < p), a key derived for it makes
  // (r, s) a valid signature (Wycheproof's method); where none has, no key can, and it must be refused.
  const special: [string, bigint, bigint][] = [
    ['r = 1, s = 1', 1n, 1n],
    ['r = 1, s = n - 1', 1n, N - 1n],
    ['r = 3, s = 1 (only x(R) = 3 + n exists)', 3n, 1n],
    ['r = 5, s = 3', 5n, 3n],
    ['r = 6, s = n - 1', 6n, N - 1n],
    ['r = n - 1, s = 1', N - 1n, 1n],
    ['r = n - 2, s = n - 1', N - 2n, N - 1n],
    ['r = n - 3, s = 2', N - 3n, 2n],
    ['r = (n - 1) / 2, s = (n + 1) / 2', (N - 1n) / 2n, (N + 1n) / 2n],
    ['r = (n + 1) / 2, s = (n - 1) / 2', (N + 1n) / 2n, (N - 1n) / 2n],
    ['r = 2^128, s = 2^128 + 1', 2n ** 128n, 2n ** 128n + 1n],
    ['r = 2^255 mod n, s = 1', (2n ** 255n) % N, 1n],
    ['r = x(G), s = 1', G.x, 1n],
  ];
  for (const [name, sr, ss] of special) {
    const vector = chosen(`valid: ${name}`, sr, ss) ?? (sr + N < P ? chosen(`valid: ${name}, R.x = r + n`, sr, ss, sr + N) : undefined);
    vectors.push(vector ?? altered(made, `invalid: ${name}: no point has x = r mod n, so no key makes it valid`, () => rs(sr, ss)));
  }

  // x(R) at or above n: the verifier must reduce x mod n before comparing (RFC 6979 / SEC 1 4.1.4 step 7).
  let k = 1n;
  while (!liftX(N + k)) k++;
  const high = chosen(`valid: x(R) = n + ${k} >= n, r = ${k}`, k, 7n, N + k)!;
  vectors.push(high);
  vectors.push(altered(high, 'invalid: r = x(R) itself, not reduced mod n', () => rs(N + k, 7n)));
  vectors.push(altered(high, `invalid: r = ${k} + n (out of range, though it fits in 32 bytes)`, () => rs(k + N, 7n)));
  vectors.push(altered(high, 'invalid: s = 7 + n', () => rs(k, 7n + N)));
  return vectors;
}

const school = (jwk: Record<string, string>): AssertionSchool => ({
  id: '12AB',
  name: 'Wycheproof',
  allowLaunch: false,
  roster: 'none',
  login: { kind: 'assertion', issuer: ISSUER, loginUrl: `${ISSUER}/login`, keys: createLocalJWKSet({ keys: [jwk] }) },
});

async function gatewaySays(vector: Vector): Promise<string> {
  const ctx: AssertionContext = {
    registry: { schoolsByIssuer: new Map([[ISSUER, [school(vector.jwk)]]]) },
    issuer: GATEWAY,
    clock: { now: () => (NOW_S + 10) * 1000 },
  };
  try {
    await verifyAssertion(vector.token, ctx);
    return 'valid';
  } catch (err) {
    if (err instanceof PageError) return err.code;
    throw err;
  }
}

async function joseSays(vector: Vector): Promise<'valid' | 'invalid'> {
  try {
    await compactVerify(vector.token, await importJWK(vector.jwk, 'ES256'), { algorithms: ['ES256'] });
    return 'valid';
  } catch {
    return 'invalid';
  }
}

let vectors: Vector[];
beforeAll(() => {
  vectors = buildVectors();
});

describe('generated vectors', () => {
  it('the P-256 helper agrees with OpenSSL: d*G is the public key node:crypto derives', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const d = BigInt(`0x${Buffer.from((privateKey.export({ format: 'jwk' }) as { d: string }).d, 'base64url').toString('hex')}`);
    const q = multiply(d, G)!;
    const jwk = publicKey.export({ format: 'jwk' }) as { x: string; y: string };
    expect({ x: toBytes32(q.x).toString('base64url'), y: toBytes32(q.y).toString('base64url') }).toEqual({ x: jwk.x, y: jwk.y });
  });

  it('cover every special value and encoding case (41 vectors, both outcomes)', () => {
    expect(vectors.length).toBe(41);
    expect(vectors.filter((v) => v.valid).length).toBeGreaterThanOrEqual(10);
    expect(vectors.filter((v) => !v.valid).length).toBeGreaterThanOrEqual(25);
  });
});

describe('ES256 vectors through the school assertion verifier', () => {
  it('accepts exactly the valid ones; refuses the rest with a stable code', async () => {
    const outcomes = await Promise.all(vectors.map(async (v) => ({ name: v.name, says: await gatewaySays(v) })));
    const expected = vectors.map((v) => ({
      name: v.name,
      says: v.valid ? 'valid' : v.name.includes('not on the curve') ? 'assertion_key_unusable' : 'assertion_signature_invalid',
    }));
    expect(outcomes).toEqual(expected);
  });

  it('jose agrees on every vector', async () => {
    const outcomes = await Promise.all(vectors.map(async (v) => ({ name: v.name, says: await joseSays(v) })));
    expect(outcomes).toEqual(vectors.map((v) => ({ name: v.name, says: v.valid ? 'valid' : 'invalid' })));
  });
});
