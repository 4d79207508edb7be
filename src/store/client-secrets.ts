import { randomToken } from '../crypto/tokens.js';
import type { ClientReg } from './seed-schema.js';

// Client secrets for client_secret_basic (README "Registrations"). The gateway
// makes them itself when asked with `"clientSecret": "generate"`: 256 random
// bits in the URL-safe base64 alphabet behind a recognisable prefix, so the
// secret reads the same whether or not a client library form-encodes it
// (RFC 6749 section 2.3.1), and secret scanners can spot a leaked one.

/** The value of `clientSecret` that asks the gateway for a fresh secret. */
export const GENERATE_SECRET = 'generate';

export const newClientSecret = (): string => `pgws_${randomToken()}`;

/**
 * A registration whose `"generate"` is replaced by a fresh secret, and that
 * secret, to be shown once. Any other registration comes back unchanged.
 */
export function withGeneratedSecret(reg: ClientReg): { reg: ClientReg; secret?: string } {
  if (reg.clientSecret !== GENERATE_SECRET) return { reg };
  const secret = newClientSecret();
  return { reg: { ...reg, clientSecret: secret }, secret };
}
