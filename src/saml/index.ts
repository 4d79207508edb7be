import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { createGuardedAgent } from '../outbound/guarded-agent.js';
import { destinationPolicy } from '../outbound/destination-policy.js';
import { registerSamlAcs, type AcsDeps } from './acs-route.js';
import { idpSource, METADATA, type IdpSource } from './idp-source.js';
import { registerSpMetadata } from './sp-metadata.js';
import { spKeysIn, type SpKeys } from './sp-keys.js';

// The SAML edge (docs/saml.md): the identity providers' metadata and the
// gateway's SP keys, built once in src/services.ts; the SP metadata and ACS
// routes, registered in src/app.ts.

export interface SamlServices {
  readonly idps: IdpSource;
  readonly spKeys: SpKeys;
}

export function createSamlServices(config: Pick<Config, 'NODE_ENV' | 'JWKS_URI_ALLOW' | 'DATA_DIR' | 'SIGNING_KEYS_RELOAD_S'>, clock: Clock, log: Pick<FastifyBaseLogger, 'warn'>): SamlServices {
  // The same destination policy as a school's remote JWKS (docs/remote-jwks.md).
  const dispatcher = createGuardedAgent(destinationPolicy(config.NODE_ENV === 'production', config.JWKS_URI_ALLOW), { connectTimeoutMs: METADATA.timeoutMs });
  return {
    idps: idpSource({
      dispatcher, clock,
      onFetchError: (url, err) => log.warn({ metadataUrl: url, reason: err instanceof Error ? err.name : 'unknown' }, 'SAML metadata fetch failed'),
    }),
    spKeys: spKeysIn(config.DATA_DIR, { clock, reloadMs: config.SIGNING_KEYS_RELOAD_S * 1000 }),
  };
}

export function registerSaml(app: FastifyInstance, deps: AcsDeps): void {
  registerSpMetadata(app, deps);
  registerSamlAcs(app, deps);
}
