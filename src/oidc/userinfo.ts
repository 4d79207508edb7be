import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../clock.js';
import { inRotationWindow } from '../crypto/pupil-pseudonyms.js';
import { invalidRequest, invalidToken } from '../errors.js';
import type { Kv } from '../store/kv.js';
import type { Registry } from '../store/registry.js';
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
    const token = bearerToken(request);
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

function bearerToken(request: FastifyRequest): string {
  const header = request.headers.authorization;
  // RFC 6750 section 3.1: another scheme counts as no credentials.
  if (header === undefined || !/^Bearer(\s|$)/i.test(header)) {
    const err = invalidToken('a bearer access token is required');
    err.noCredentials = true;
    throw err;
  }
  const match = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i.exec(header);
  if (!match) throw invalidRequest('the Authorization header is malformed');
  return match[1]!;
}
