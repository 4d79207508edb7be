import type { FastifyInstance } from 'fastify';
import { INBOUND_ALGS } from '../crypto/jws.js';
import type { SigningKeys } from '../crypto/signing-keys.js';
import { JWKS_MAX_AGE_S } from '../crypto/signing-key-file.js';
import { RELEASABLE_CLAIMS } from '../store/seed-schema.js';
import { TOKEN_PATH } from './paths.js';

// OpenID Connect Discovery 1.0 and the JWKS. Public data: short caching and
// CORS allowed (docs/openid-connect.md).

export function discoveryDocument(issuer: string) {
  return {
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}${TOKEN_PATH}`,
    userinfo_endpoint: `${issuer}/userinfo`,
    jwks_uri: `${issuer}/jwks.json`,
    scopes_supported: ['openid'],
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['ES256'],
    token_endpoint_auth_methods_supported: ['private_key_jwt', 'client_secret_basic'],
    token_endpoint_auth_signing_alg_values_supported: INBOUND_ALGS,
    code_challenge_methods_supported: ['S256'],
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'previous_sub', ...RELEASABLE_CLAIMS],
    claims_parameter_supported: false,
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
    authorization_response_iss_parameter_supported: true,
    ui_locales_supported: ['nl', 'en'],
  };
}

export function registerDiscovery(app: FastifyInstance, ctx: { readonly issuer: string; readonly signing: Pick<SigningKeys, 'jwks'> }): void {
  const document = discoveryDocument(ctx.issuer);
  app.get('/.well-known/openid-configuration', async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=300').header('access-control-allow-origin', '*');
    return document;
  });
  app.get('/jwks.json', async (_request, reply) => {
    // Shorter than the pre-publication interval (src/config.ts checks it): a relying party's cached
    // copy always holds the next key before it signs.
    reply.header('cache-control', `public, max-age=${JWKS_MAX_AGE_S}`).header('access-control-allow-origin', '*');
    return ctx.signing.jwks;
  });
}
