import { CLOCK_SKEW_S } from '../crypto/verify-jws.js';
import { tokenHash } from '../crypto/tokens.js';
import type { Kv } from './kv.js';
import { kvKey } from './kv-keys.js';

export type JtiKind = 'assertionJti' | 'clientAssertionJti' | 'samlAssertionId';

/**
 * The claim of an inbound JWT's jti, as a step's `claim` (src/store/kv.ts): a
 * SET NX that lives until the token could no longer pass its time checks anyway
 * (exp + skew), so every replay within the token's life is refused. `issuer`
 * scopes the jti, so two issuers' jtis never collide.
 */
export function jtiClaim(kind: JtiKind, issuer: string, jti: string, exp: number, nowMs: number): { key: string; ttlMs: number } {
  const ttlMs = Math.ceil((exp + CLOCK_SKEW_S) * 1000 - nowMs);
  return { key: kvKey(kind, tokenHash(`${issuer}\0${jti}`)), ttlMs: Math.max(ttlMs, 1000) };
}

/** Claim a jti on its own, atomically (SET NX). False: already claimed. */
export function claimJti(kv: Pick<Kv, 'setIfAbsent'>, kind: JtiKind, issuer: string, jti: string, exp: number, nowMs: number): Promise<boolean> {
  const { key, ttlMs } = jtiClaim(kind, issuer, jti, exp, nowMs);
  return kv.setIfAbsent(key, '1', ttlMs);
}
