import { constantEqual, sha256 } from '../crypto/tokens.js';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Clock } from '../clock.js';
import type { Queryable } from '../store/db.js';
import { bearerCredentials } from '../http/bearer.js';
import { findAdminToken } from '../store/admin-tokens.js';
import { notFound, Problem } from './problem.js';

// Who may call an admin route (README, Admin API). Every route declares its
// access rule, and a route without one cannot be registered:
//   operator: operator tokens only (a school token gets 403);
//   school:   an operator, or a token of the school named by :schoolId; any
//             other school's token gets exactly the 404 of a missing resource;
//   public:   no token (the OpenAPI document).

export type Access = 'operator' | 'school' | 'public';

export interface Principal {
  /** The token id, or 'bootstrap' for OPERATOR_BOOTSTRAP_TOKEN: what audit events name. */
  actor: string;
  /** null: the operator. */
  school: string | null;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
  interface FastifyInstance {
    /** Every admin route with its access rule, as registered (the access-matrix test walks them). */
    adminRoutes?: AdminRoute[];
  }
}

export interface AdminRoute {
  method: string;
  url: string;
  access: Access;
}

export interface AuthDeps {
  db: Queryable;
  clock: Clock;
  bootstrapToken: string | undefined;
  /** Called on each use of the bootstrap token (a warning in production). */
  onBootstrapUse: (request: FastifyRequest) => void;
}

const unauthorized = () => new Problem('unauthorized', 401, 'A valid admin bearer token is required');
const forbidden = () => new Problem('forbidden', 403, 'This needs an operator token');

/** Refuse, at registration, an admin route that declares no access rule; list the others in `routes`. */
export function requireAccessRules(scope: FastifyInstance, prefix: string, routes: AdminRoute[]): void {
  scope.addHook('onRoute', (route) => {
    if (!route.url.startsWith(prefix)) return;
    const access = route.config?.access;
    if (!access) throw new Error(`admin route ${String(route.method)} ${route.url} declares no access rule`);
    if (access === 'school' && !route.url.includes(':schoolId')) throw new Error(`school route ${route.url} has no :schoolId`);
    for (const method of [route.method].flat()) routes.push({ method, url: route.url, access });
  });
}

export function registerAuth(scope: FastifyInstance, deps: AuthDeps): void {
  const bootstrapHash = deps.bootstrapToken ? sha256(deps.bootstrapToken) : undefined;

  async function authenticate(request: FastifyRequest): Promise<Principal> {
    const credentials = bearerCredentials(request.headers.authorization, 512);
    if (!('token' in credentials)) throw unauthorized();
    const secret = credentials.token;
    if (bootstrapHash && constantEqual(sha256(secret), bootstrapHash)) {
      deps.onBootstrapUse(request);
      return { actor: 'bootstrap', school: null };
    }
    const token = await findAdminToken(deps.db, secret);
    // Unknown, revoked and expired tokens get one answer.
    if (!token || token.revokedAt !== null || Date.parse(token.expiresAt) <= deps.clock.now()) throw unauthorized();
    return { actor: token.id, school: token.school };
  }

  // Before the body is read: an unauthenticated or foreign caller learns nothing from validation
  // errors, and never makes the server parse a body (the pseudonym-job routes take megabytes).
  scope.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config.access;
    if (access === 'public' || access === undefined) return;
    const principal = await authenticate(request);
    request.principal = principal;
    if (principal.school === null) return;
    if (access === 'operator') throw forbidden();
    if ((request.params as { schoolId?: string }).schoolId !== principal.school) throw notFound();
  });
}

/** The authenticated caller; the onRequest hook guarantees one on every non-public route. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new Error('admin route reached without a principal');
  return request.principal;
}
