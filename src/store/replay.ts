import { CLOCK_SKEW_S } from '../crypto/verify-jws.js';
import { tokenHash } from '../crypto/tokens.js';
import type { Kv } from './kv.js';
import { kvKey } from './kv-keys.js';

/**
 * Claim an inbound JWT's jti, atomically (SET NX). The claim lives until the
 * token could no longer pass its time checks anyway (exp + skew), so every
 * replay within the token's life is refused. False: already claimed.
 * `issuer` scopes the jti, so two issuers' jtis never collide.
 */
export function claimJti(
  kv: Pick<Kv, 'setIfAbsent'>,
  kind: 'assertionJti' | 'clientAssertionJti' | 'samlAssertionId',
  issuer: string,
  jti: string,
  exp: number,
  nowMs: number,
): Promise<boolean> {
  const ttlMs = Math.ceil((exp + CLOCK_SKEW_S) * 1000 - nowMs);
  return kv.setIfAbsent(kvKey(kind, tokenHash(`${issuer}\0${jti}`)), '1', Math.max(ttlMs, 1000));
}
