import { constants, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { createLocalJWKSet, decodeProtectedHeader, exportJWK, jwtVerify, SignJWT, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeUntrusted, INBOUND_ALGS, MAX_JWS_LENGTH, signJwt } from '../../src/crypto/jws.js';
import { generateSigningKey, type SigningKey } from '../../src/crypto/signing-keys.js';
import { verifyJwsSignature } from '../../src/crypto/verify-jws.js';

// The hand-written JWS code (src/crypto/jws.ts signs, src/crypto/verify-jws.ts
// verifies) against jose over the same tokens, so the two cannot drift apart:
// - what signJwt makes, jose verifies and reads back the same;
// - over one corpus of well-formed and hostile tokens, the gateway's
//   decode + verify accepts exactly what jose's jwtVerify accepts, except the
//   few rules where the gateway is stricter on purpose, each listed by name;
// - over a few hundred seeded random mutations of valid tokens, both agree.

type Outcome = 'accept' | 'refuse';

interface Signer {
  readonly alg: string;
  readonly kid: string;
  readonly key: KeyObject;
}

const b64 = (value: string | Buffer): string => Buffer.from(value).toString('base64url');
const json = (value: unknown): string => b64(JSON.stringify(value));

/** Sign exactly these header and payload segments with node:crypto, as a peer would. */
function rawSign(signer: Signer, header: string, payload: string, alg = signer.alg): string {
  const input = Buffer.from(`${header}.${payload}`);
  const signature = (() => {
    switch (alg) {
      case 'ES256':
        return sign('sha256', input, { key: signer.key, dsaEncoding: 'ieee-p1363' });
      case 'RS256':
        return sign('sha256', input, { key: signer.key, padding: constants.RSA_PKCS1_PADDING });
      case 'PS256':
        return sign('sha256', input, { key: signer.key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
      default:
        return sign(null, input, signer.key);
    }
  })();
  return `${header}.${payload}.${b64(signature)}`;
}

const token = (signer: Signer, header: Record<string, unknown> = {}, payload: Record<string, unknown> = { sub: 'x' }) =>
  rawSign(signer, json({ alg: signer.alg, kid: signer.kid, ...header }), json(payload));

async function oursSays(jws: string, keys: ReturnType<typeof createLocalJWKSet>): Promise<Outcome> {
  const decoded = decodeUntrusted(jws);
  if (!decoded) return 'refuse';
  try {
    await verifyJwsSignature(jws, decoded.header, keys);
    return 'accept';
  } catch {
    return 'refuse';
  }
}

async function joseSays(jws: string, keys: ReturnType<typeof createLocalJWKSet>): Promise<Outcome> {
  try {
    await jwtVerify(jws, keys, { algorithms: INBOUND_ALGS });
    return 'accept';
  } catch {
    return 'refuse';
  }
}

let es: Signer;
let rs: Signer;
let ps: Signer;
let ed: Signer;
let weakRsa: Signer;
let otherEs: Signer;
let jwks: ReturnType<typeof createLocalJWKSet>;
let gatewayKey: SigningKey;

async function signer(alg: string, kid: string, options: object): Promise<{ signer: Signer; jwk: JWK }> {
  const pair =
    alg === 'ES256' ? generateKeyPairSync('ec', options as { namedCurve: string })
    : alg === 'EdDSA' ? generateKeyPairSync('ed25519')
    : generateKeyPairSync('rsa', options as { modulusLength: number });
  const { privateKey, publicKey } = pair;
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { signer: { alg, kid, key: privateKey }, jwk };
}

beforeAll(async () => {
  const made = await Promise.all([
    signer('ES256', 'es', { namedCurve: 'P-256' }),
    signer('RS256', 'rs', { modulusLength: 2048 }),
    signer('PS256', 'ps', { modulusLength: 2048 }),
    signer('EdDSA', 'ed', {}),
    signer('RS256', 'weak', { modulusLength: 1024 }),
  ]);
  [es, rs, ps, ed, weakRsa] = made.map((m) => m.signer) as [Signer, Signer, Signer, Signer, Signer];
  // The Ed25519 key is registered without alg, so both names of its algorithm select it (store/registry.ts).
  const keys = made.map((m) => (m.signer.kid === 'ed' ? { ...m.jwk, alg: undefined } : m.jwk));
  jwks = createLocalJWKSet({ keys: keys as JWK[] });
  otherEs = (await signer('ES256', 'es', { namedCurve: 'P-256' })).signer;
  gatewayKey = (await generateSigningKey()).key;
});

describe('signJwt (src/crypto/jws.ts) as jose reads it', () => {
  it.each([
    ['a plain id_token payload', { iss: 'https://gw.example', sub: 'abc', aud: 'app', iat: 1_900_000_000, exp: 4_000_000_000 }],
    ['non-ASCII text', { name: 'Zoë Ündé – 漢字 🙂', tussenvoegsel: "van 't" }],
    ['nested values and arrays', { groups: [{ key: 'g', grade: 8 }], school: '12AB', n: 1.5, t: true, z: null }],
    ['a JSON-significant string', { s: '"}\\u0000\u2028' }],
  ])('%s: verifies, and header and payload read back identical', async (_name, payload) => {
    const jws = signJwt(gatewayKey, 'JWT', payload);
    const { payload: read, protectedHeader } = await jwtVerify(jws, createLocalJWKSet({ keys: [gatewayKey.publicJwk] }), { algorithms: ['ES256'] });
    expect(read).toEqual(payload);
    expect(protectedHeader).toEqual({ alg: 'ES256', kid: gatewayKey.kid, typ: 'JWT' });
    expect(decodeProtectedHeader(jws)).toEqual(protectedHeader);
    // And the gateway's own verifier agrees with itself.
    expect(await oursSays(jws, createLocalJWKSet({ keys: [gatewayKey.publicJwk] }))).toBe('accept');
  });

  it('what jose signs, the gateway verifies, for every inbound algorithm', async () => {
    for (const [alg, kid] of [['ES256', 'es'], ['RS256', 'rs'], ['PS256', 'ps'], ['EdDSA', 'ed'], ['Ed25519', 'ed']] as const) {
      const s = { es, rs, ps, ed }[kid];
      const jws = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg, kid }).sign(s.key);
      expect({ alg, ours: await oursSays(jws, jwks), jose: await joseSays(jws, jwks) }).toEqual({ alg, ours: 'accept', jose: 'accept' });
    }
  });
});

describe('one corpus, two verifiers', () => {
  interface Case {
    name: string;
    jws: () => string | Promise<string>;
    ours: Outcome;
    jose: Outcome;
  }
  const both = (name: string, outcome: Outcome, jws: Case['jws']): Case => ({ name, jws, ours: outcome, jose: outcome });
  /** A rule where the gateway is stricter than jose on purpose: it refuses, jose accepts. */
  const stricter = (name: string, jws: Case['jws']): Case => ({ name, jws, ours: 'refuse', jose: 'accept' });
  const tamper = (jws: string, part: 0 | 1 | 2, change: (segment: string) => string) =>
    jws.split('.').map((segment, i) => (i === part ? change(segment) : segment)).join('.');
  const flipChar = (segment: string) => `${segment.slice(0, 5)}${segment[5] === 'A' ? 'B' : 'A'}${segment.slice(6)}`;

  const cases: Case[] = [
    both('ES256', 'accept', () => token(es)),
    both('RS256', 'accept', () => token(rs)),
    both('PS256', 'accept', () => token(ps)),
    both('EdDSA', 'accept', () => token(ed)),
    both('Ed25519 (RFC 9864 name)', 'accept', () => token(ed, { alg: 'Ed25519' })),
    both('an unknown header member', 'accept', () => token(es, { x5t: 'whatever', typ: 'JWT' })),
    both('alg none, empty signature', 'refuse', () => `${json({ alg: 'none', kid: 'es' })}.${json({ sub: 'x' })}.`),
    both('alg absent', 'refuse', () => token(es, { alg: undefined })),
    both('alg lower case', 'refuse', () => token(es, { alg: 'es256' })),
    both('HS256 keyed with the public JWK (algorithm confusion)', 'refuse', async () =>
      new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'HS256', kid: 'es' }).sign(new TextEncoder().encode('public-key-bytes'))),
    both('ES384 (not inbound)', 'refuse', () => token(es, { alg: 'ES384' })),
    both('header RS256 over an EC key id', 'refuse', () => rawSign(rs, json({ alg: 'RS256', kid: 'es' }), json({ sub: 'x' }))),
    both('header ES256 signed by the RSA key under the EC kid', 'refuse', () => rawSign(rs, json({ alg: 'ES256', kid: 'es' }), json({ sub: 'x' }), 'RS256')),
    both('PS256 signature under the RS256 key id', 'refuse', () => rawSign(ps, json({ alg: 'RS256', kid: 'rs' }), json({ sub: 'x' }), 'PS256')),
    both('RS256 with a 1024-bit key', 'refuse', () => token(weakRsa)),
    both('an unknown kid', 'refuse', () => token(es, { kid: 'nobody' })),
    both('the right kid, another key', 'refuse', () => token(otherEs)),
    both('an embedded jwk naming the attacker key, no kid', 'refuse', async () =>
      rawSign(otherEs, json({ alg: 'ES256', jwk: { ...(await exportJWK(otherEs.key)), d: undefined } }), json({ sub: 'x' }))),
    both('crit naming exp', 'refuse', () => token(es, { crit: ['exp'], exp: 1 })),
    both('b64 false under crit (RFC 7797)', 'refuse', () => token(es, { crit: ['b64'], b64: false })),
    both('signature changed', 'refuse', () => tamper(token(es), 2, flipChar)),
    both('payload changed', 'refuse', () => tamper(token(es), 1, () => json({ sub: 'y' }))),
    both('header changed', 'refuse', () => tamper(token(es), 0, () => json({ alg: 'ES256', kid: 'es', typ: 'JWT' }))),
    both('signature DER-encoded', 'refuse', () => `${token(es).split('.').slice(0, 2).join('.')}.${b64(sign('sha256', Buffer.from(token(es).split('.').slice(0, 2).join('.')), { key: es.key, dsaEncoding: 'der' }))}`),
    both('signature empty', 'refuse', () => tamper(token(es), 2, () => '')),
    both('four segments', 'refuse', () => `${token(es)}.${b64('x')}`),
    both('two segments', 'refuse', () => token(es).split('.').slice(0, 2).join('.')),
    stricter('base64 padding after the signature (jose decodes leniently)', () => `${token(es)}==`),
    both('a character outside base64url', 'refuse', () => tamper(token(es), 1, (s) => `${s.slice(0, 3)}+${s.slice(4)}`)),
    both('header an array', 'refuse', () => rawSign(es, json([{ alg: 'ES256', kid: 'es' }]), json({ sub: 'x' }))),
    both('payload an array', 'refuse', () => rawSign(es, json({ alg: 'ES256', kid: 'es' }), json(['x']))),
    both('payload not JSON', 'refuse', () => rawSign(es, json({ alg: 'ES256', kid: 'es' }), b64('not json'))),
    stricter('a duplicate header member (strict JSON)', () => rawSign(es, b64('{"alg":"ES256","kid":"x","kid":"es"}'), json({ sub: 'x' }))),
    stricter('a duplicate payload member (strict JSON)', () => rawSign(es, json({ alg: 'ES256', kid: 'es' }), b64('{"sub":"a","sub":"b"}'))),
    both('payload bytes that are not UTF-8', 'refuse', () => rawSign(es, json({ alg: 'ES256', kid: 'es' }), b64(Buffer.concat([Buffer.from('{"sub":"'), Buffer.from([0xff]), Buffer.from('"}')])))),
    stricter('more than 100 claims', () => token(es, {}, Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`c${i}`, i])))),
    stricter(`longer than ${MAX_JWS_LENGTH} characters`, () => token(es, {}, { sub: 'x', pad: 'p'.repeat(MAX_JWS_LENGTH) })),
    stricter('b64 present without crit (RFC 7797 needs crit; jose ignores it)', () => token(es, { b64: false })),
  ];

  it.each(cases)('$name: gateway $ours, jose $jose', async ({ jws, ours, jose }) => {
    const t = await jws();
    expect({ ours: await oursSays(t, jwks), jose: await joseSays(t, jwks) }).toEqual({ ours, jose });
  });

  it('seeded random mutations of valid tokens: both verifiers give the same answer every time', async () => {
    let seed = 0x5eed;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.';
    const valid = [token(es), token(rs), token(ps), token(ed), token(ed, { alg: 'Ed25519' })];
    const disagreements: string[] = [];
    let accepted = 0;
    for (let i = 0; i < 400; i++) {
      const base = valid[random(valid.length)]!;
      const at = random(base.length);
      const mutated = random(4) === 0 ? base.slice(0, at) + base.slice(at + 1) : base.slice(0, at) + alphabet[random(alphabet.length)] + base.slice(at + 1);
      const [o, j] = [await oursSays(mutated, jwks), await joseSays(mutated, jwks)];
      if (o !== j) disagreements.push(`${mutated}: gateway ${o}, jose ${j}`);
      if (o === 'accept') accepted++;
    }
    expect(disagreements).toEqual([]);
    // Almost every mutation breaks the token; the few accepted change only unused bits of the last character.
    expect(accepted).toBeLessThan(40);
  });
});
