import { createLocalJWKSet } from 'jose';
import { remoteKeySources, type KeyLookup } from '../outbound/remote-keys.js';
import type { JwksReg } from './seed-schema.js';

// Where a school's or client's public keys come from: an inline JWKS, or a
// remote one fetched within bounds and cached by src/outbound/remote-keys.ts
// (docs/remote-jwks.md; docs/registrations.md, "Keys").

export { KeysUnavailableError, type KeyLookup } from '../outbound/remote-keys.js';

/** The process's remote key sets by URI (src/outbound/remote-keys.ts remoteKeySourcesFor). */
export type RemoteKeysAt = (uri: string) => KeyLookup;

let productionRemoteKeys: RemoteKeysAt | undefined;
/** Without a configured source: the production rules, nothing allowed beyond them. */
export const defaultRemoteKeys: RemoteKeysAt = (uri) => (productionRemoteKeys ??= remoteKeySources({ production: true }))(uri);

/** The keys of a registration that gives `jwks` or `jwksUri`; undefined when it gives neither. */
export function keySource(reg: { jwks?: JwksReg | undefined; jwksUri?: string | undefined }, remoteKeysAt: RemoteKeysAt): KeyLookup | undefined {
  if (reg.jwks) return createLocalJWKSet({ keys: reg.jwks.keys.map(sameAlgorithmNames) } as Parameters<typeof createLocalJWKSet>[0]);
  if (reg.jwksUri) return remoteKeysAt(reg.jwksUri);
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
