import { createHash } from 'node:crypto';

// P-256 (secp256r1) arithmetic over BigInt, only for tests: it builds
// Wycheproof-style ECDSA vectors at test time. Given a message, any chosen
// (r, s) becomes a valid signature under a public key derived for it
// (Q = r^-1 * (s*R - e*G), R a point whose x is r or r + n), which is how
// Wycheproof makes its edge-case vectors for special values of r and s.
// Affine coordinates, no constant time: never for real keys.

export const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
export const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const A = P - 3n;
const B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;
export const G: Point = {
  x: 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
  y: 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
};

export interface Point {
  readonly x: bigint;
  readonly y: bigint;
}

const mod = (a: bigint, m: bigint): bigint => ((a % m) + m) % m;

function pow(base: bigint, exp: bigint, m: bigint): bigint {
  let result = 1n;
  let b = mod(base, m);
  for (let e = exp; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % m;
    b = (b * b) % m;
  }
  return result;
}

/** Inverse modulo a prime. */
export const inv = (a: bigint, m: bigint): bigint => pow(a, m - 2n, m);

export const onCurve = (q: Point): boolean => mod(q.y * q.y - (q.x ** 3n + A * q.x + B), P) === 0n;

/** The point with this x coordinate (even y), or undefined when none exists. P = 3 mod 4, so the root is a power. */
export function liftX(x: bigint): Point | undefined {
  if (x < 0n || x >= P) return undefined;
  const rhs = mod(x ** 3n + A * x + B, P);
  const y = pow(rhs, (P + 1n) / 4n, P);
  if ((y * y) % P !== rhs) return undefined;
  return { x, y: y % 2n === 0n ? y : P - y };
}

/** Point addition; undefined is the point at infinity. */
export function add(p1: Point | undefined, p2: Point | undefined): Point | undefined {
  if (!p1) return p2;
  if (!p2) return p1;
  if (p1.x === p2.x && mod(p1.y + p2.y, P) === 0n) return undefined;
  const lambda =
    p1.x === p2.x && p1.y === p2.y
      ? mod((3n * p1.x * p1.x + A) * inv(2n * p1.y, P), P)
      : mod((p2.y - p1.y) * inv(mod(p2.x - p1.x, P), P), P);
  const x = mod(lambda * lambda - p1.x - p2.x, P);
  return { x, y: mod(lambda * (p1.x - x) - p1.y, P) };
}

export function multiply(k: bigint, point: Point | undefined): Point | undefined {
  let result: Point | undefined;
  let addend = point;
  for (let e = mod(k, N); e > 0n; e >>= 1n) {
    if (e & 1n) result = add(result, addend);
    addend = add(addend, addend);
  }
  return result;
}

export const negate = (q: Point): Point => ({ x: q.x, y: mod(-q.y, P) });

/** The ECDSA message representative of an ES256 signing input: SHA-256 as an integer (256 bits, no truncation). */
export const hashToInt = (message: string | Buffer): bigint => BigInt(`0x${createHash('sha256').update(message).digest('hex')}`);

/**
 * A public key under which (r, s) is a valid ECDSA signature of `message`,
 * using R = the point with x = rX (rX = r, or r + n: x coordinates at or above
 * n reduce to r). Undefined when no such R or Q exists.
 */
export function keyForSignature(message: string | Buffer, r: bigint, s: bigint, rX: bigint = r): Point | undefined {
  const R = liftX(rX);
  if (!R || r === 0n || r >= N || s === 0n || s >= N) return undefined;
  const e = mod(hashToInt(message), N);
  // s*R = e*G + r*Q  =>  Q = r^-1 (s*R - e*G)
  const eG = multiply(e, G);
  const sR = multiply(s, R);
  return multiply(inv(r, N), eG ? add(sR, negate(eG)) : sR);
}

export const toBytes32 = (v: bigint): Buffer => Buffer.from(v.toString(16).padStart(64, '0'), 'hex');

export const publicJwk = (q: Point, kid: string) => ({
  kty: 'EC', crv: 'P-256', kid, alg: 'ES256', use: 'sig',
  x: toBytes32(q.x).toString('base64url'), y: toBytes32(q.y).toString('base64url'),
});
