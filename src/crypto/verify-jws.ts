import { constants, KeyObject, verify } from 'node:crypto';
import type { CryptoKey, JWTVerifyGetKey } from 'jose';
import { INBOUND_ALGS } from './jws.js';

// Signature verification of an inbound compact JWS (school assertions, client
// assertions). jose keeps doing what it does best, choosing the key from a
// registered or remote JWKS (kid, kty, crv, alg compatibility, caching, bounded
// refetch); the signature itself is checked with node:crypto, synchronously,
// which costs a third of WebCrypto's round trip through the thread pool.

export class JwsError extends Error {
  constructor(readonly reason: 'alg_not_allowed' | 'malformed' | 'weak_key' | 'signature_invalid') {
    super(reason);
  }
}

const keyObjects = new WeakMap<CryptoKey, KeyObject>();

function keyObjectOf(key: CryptoKey): KeyObject {
  let object = keyObjects.get(key);
  if (!object) {
    object = KeyObject.from(key);
    keyObjects.set(key, object);
  }
  return object;
}

/** The node:crypto parameters for an allowed algorithm, refusing a key of another family (RFC 8725 section 3.1). */
function verifierFor(alg: string, key: KeyObject): { digest: string | null; options: Parameters<typeof verify>[2] } {
  const type = key.asymmetricKeyType;
  switch (alg) {
    case 'ES256':
      if (type !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new JwsError('alg_not_allowed');
      return { digest: 'sha256', options: { key, dsaEncoding: 'ieee-p1363' } };
    case 'RS256':
    case 'PS256': {
      if (type !== 'rsa' && type !== 'rsa-pss') throw new JwsError('alg_not_allowed');
      // RSA keys of at least 2048 bits (docs/school-assertion.md).
      if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) throw new JwsError('weak_key');
      const padding = alg === 'PS256' ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } : { padding: constants.RSA_PKCS1_PADDING };
      return { digest: 'sha256', options: { key, ...padding } };
    }
    case 'EdDSA':
    case 'Ed25519':
      if (type !== 'ed25519') throw new JwsError('alg_not_allowed');
      return { digest: null, options: key };
    default:
      throw new JwsError('alg_not_allowed');
  }
}

/**
 * Verify the signature of `token` (already shape-checked and decoded) with the
 * key `keys` selects for its header. Throws JwsError, or jose's JWKS errors
 * when no key can be found or fetched.
 */
export async function verifyJwsSignature(token: string, header: Record<string, unknown>, keys: JWTVerifyGetKey): Promise<void> {
  if (typeof header.alg !== 'string' || !INBOUND_ALGS.includes(header.alg)) throw new JwsError('alg_not_allowed');
  // RFC 7515 section 4.1.11: we understand no extension, so any crit refuses the token; b64 needs crit (RFC 7797).
  if (header.crit !== undefined || header.b64 !== undefined) throw new JwsError('malformed');
  const dot = token.lastIndexOf('.');
  const signature = Buffer.from(token.slice(dot + 1), 'base64url');
  const key = await keys(header as unknown as Parameters<JWTVerifyGetKey>[0], { payload: '', signature: '' });
  const { digest, options } = verifierFor(header.alg, keyObjectOf(key as CryptoKey));
  if (!verify(digest, Buffer.from(token.slice(0, dot), 'ascii'), options, signature)) throw new JwsError('signature_invalid');
}

/** Clock skew tolerated on inbound JWTs (docs/school-assertion.md). */
export const CLOCK_SKEW_S = 30;

export type TimeFault = 'expired' | 'not_yet_valid' | 'invalid' | 'lifetime_too_long';

/**
 * RFC 7519 section 4.1 time claims, in whole seconds: exp required; iat
 * required when asked; nbf and iat may lie at most `skew` in the future; exp
 * may have passed by at most `skew`; exp - (iat or now) at most `maxLifetime`.
 */
export function checkTimes(
  payload: Record<string, unknown>,
  opts: { now: number; skew: number; maxLifetime: number; requireIat: boolean },
): { iat: number; exp: number } | TimeFault {
  const { exp, iat, nbf } = payload;
  if (!Number.isSafeInteger(exp) || (iat !== undefined && !Number.isSafeInteger(iat)) || (nbf !== undefined && !Number.isSafeInteger(nbf))) {
    return 'invalid';
  }
  if (opts.requireIat && iat === undefined) return 'invalid';
  const e = exp as number;
  const issued = (iat as number | undefined) ?? opts.now;
  if (e + opts.skew <= opts.now) return 'expired';
  if (issued > opts.now + opts.skew || (nbf as number | undefined ?? 0) > opts.now + opts.skew) return 'not_yet_valid';
  if (e <= issued || e - issued > opts.maxLifetime) return 'lifetime_too_long';
  return { iat: issued, exp: e };
}
