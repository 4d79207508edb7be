import type { FastifyInstance } from 'fastify';
import type { UpstreamClientKey } from './client-key.js';
import { CLIENT_JWKS_PATH } from './paths.js';

// GET /school/oidc/jwks.json: the public key the gateway signs its
// private_key_jwt client assertions with (docs/upstream-oidc.md); an upstream
// provider registers this URL as the gateway's jwks_uri.

export function registerClientJwks(app: FastifyInstance, deps: { readonly upstream: { clientKey(): Promise<UpstreamClientKey> } }): void {
  app.get(CLIENT_JWKS_PATH, async (_request, reply) => {
    const key = await deps.upstream.clientKey();
    return reply.header('cache-control', 'public, max-age=300').type('application/jwk-set+json').send({ keys: [key.publicJwk] });
  });
}
