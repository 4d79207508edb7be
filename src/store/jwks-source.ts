import { createLocalJWKSet, createRemoteJWKSet, errors as joseErrors, type JWTVerifyGetKey } from 'jose';
import type { JwksReg } from './seed-schema.js';

// Where a school's or client's public keys come from: an inline JWKS, or a
// remote one that jose caches and refetches on an unknown kid at most once
// per cooldown (docs/registrations.md, "Keys").

/** Refetch on an unknown kid at most every 30 s, keep fetched keys 10 minutes, give up on a fetch after 2 s. */
const REMOTE_JWKS = { cooldownDuration: 30_000, cacheMaxAge: 600_000, timeoutDuration: 2_000 };

/** A remote JWKS could not be fetched or read: the peer is unavailable, its tokens are not wrong. */
export class KeysUnavailableError extends Error {}

/** After a failed fetch, a peer's JWKS endpoint is left alone this long (jose's cooldown only follows successes). */
const FAILED_FETCH_COOLDOWN_MS = 5_000;

function remoteKeys(uri: string): JWTVerifyGetKey {
  const jwks = createRemoteJWKSet(new URL(uri), REMOTE_JWKS);
  let failedAt = -Infinity;
  return async (header, token) => {
    if (Date.now() - failedAt < FAILED_FETCH_COOLDOWN_MS) throw new KeysUnavailableError('remote JWKS recently unavailable');
    try {
      return await jwks(header, token);
    } catch (err) {
      if (err instanceof joseErrors.JWKSNoMatchingKey || err instanceof joseErrors.JWKSMultipleMatchingKeys) throw err;
      failedAt = Date.now();
      throw new KeysUnavailableError('remote JWKS unavailable', { cause: err });
    }
  };
}

/** The keys of a registration that gives `jwks` or `jwksUri`; undefined when it gives neither. */
export function keySource(reg: { jwks?: JwksReg | undefined; jwksUri?: string | undefined }): JWTVerifyGetKey | undefined {
  if (reg.jwks) return createLocalJWKSet({ keys: reg.jwks.keys.map(sameAlgorithmNames) } as Parameters<typeof createLocalJWKSet>[0]);
  if (reg.jwksUri) return remoteKeys(reg.jwksUri);
  return undefined;
}

/**
 * "EdDSA" and RFC 9864's "Ed25519" name one algorithm for an Ed25519 key; a key
 * registered under either name must verify tokens signed under the other.
 */
function sameAlgorithmNames<K extends { kty: string; alg?: string | undefined }>(jwk: K): K {
  if (jwk.kty !== 'OKP' || (jwk.alg !== 'EdDSA' && jwk.alg !== 'Ed25519')) return jwk;
  const { alg: _alg, ...rest } = jwk;
  return rest as K;
}
