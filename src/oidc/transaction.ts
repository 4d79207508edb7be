import type { Kv } from '../store/kv.js';
import { tokenHash } from '../crypto/tokens.js';
import type { AuthorizationRequest } from '../login/complete.js';

/**
 * A pending login between /authorize and the school's assertion. Keyed by the
 * nonce the gateway sent the school, taken once: an assertion can complete
 * only the login that asked for it, and only once.
 */
export interface PendingLogin extends AuthorizationRequest {
  readonly schoolIssuer: string;
  readonly createdAt: number;
}

/** DESIGN.md Contract details: the login request to the school lives at most 300 s. */
export const LOGIN_REQUEST_TTL_S = 300;

const key = (gatewayNonce: string) => `txn:${tokenHash(gatewayNonce)}`;

export async function savePendingLogin(kv: Pick<Kv, 'set'>, gatewayNonce: string, login: PendingLogin): Promise<void> {
  await kv.set(key(gatewayNonce), JSON.stringify(login), LOGIN_REQUEST_TTL_S * 1000);
}

export async function takePendingLogin(kv: Pick<Kv, 'take'>, gatewayNonce: string): Promise<PendingLogin | undefined> {
  const raw = await kv.take(key(gatewayNonce));
  return raw ? (JSON.parse(raw) as PendingLogin) : undefined;
}
