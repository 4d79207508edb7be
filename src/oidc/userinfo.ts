import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../clock.js';
import { inRotationWindow } from '../crypto/pupil-pseudonyms.js';
import { invalidRequest, invalidToken } from '../errors.js';
import type { Kv } from '../store/kv.js';
import type { Registry } from '../store/registry.js';
import { bearerCredentials } from '../http/bearer.js';
import { findAccessToken } from './access-token.js';

// GET|POST /userinfo (OIDC Core section 5.3) with a bearer token in the
// Authorization header (RFC 6750 section 2.1): the same released claims.

export interface UserinfoDeps {
  readonly kv: Pick<Kv, 'get'>;
  readonly registry: () => Registry;
  readonly clock: Clock;
}

export function registerUserinfo(app: FastifyInstance, ctx: UserinfoDeps): void {
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    reply.header('cache-control', 'no-store');
    const token = accessTokenOf(request);
    const grant = token.length <= 256 ? await findAccessToken(ctx.kv, token) : undefined;
    if (!grant) throw invalidToken('the access token is invalid, expired or revoked');
    return {
      ...grant.claims,
      ...(grant.previousSub === undefined || !rotationOpen(ctx, grant.clientId) ? {} : { previous_sub: grant.previousSub }),
      sub: grant.sub,
    };
  };
  app.route({ method: ['GET', 'POST'], url: '/userinfo', config: { errorStyle: 'bearer', loginStep: 'userinfo' }, handler });
}

/** An access token issued inside a rotation window may outlive it by minutes: previous_sub ends with the window. */
function rotationOpen(ctx: Pick<UserinfoDeps, 'registry' | 'clock'>, clientId: string): boolean {
  const registry = ctx.registry();
  const supplier = registry.suppliers.get(registry.clients.get(clientId)?.supplier ?? '');
  return supplier !== undefined && inRotationWindow(supplier, ctx.clock.now());
}

function accessTokenOf(request: FastifyRequest): string {
  const credentials = bearerCredentials(request.headers.authorization, MAX_HEADER_TOKEN);
  if ('token' in credentials) return credentials.token;
  if (credentials.missing === 'malformed') throw invalidRequest('the Authorization header is malformed');
  // RFC 6750 section 3.1: another scheme counts as no credentials.
  const err = invalidToken('a bearer access token is required');
  err.noCredentials = true;
  throw err;
}

/** Longer than any token we issue, so a long one is refused as unknown (invalid_token), as before. */
const MAX_HEADER_TOKEN = 8 * 1024;
