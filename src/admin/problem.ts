import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { GatewayError, toGatewayError, UnavailableError, type ErrorCode, type ProblemCode } from '../errors.js';
import { ConstraintError } from '../store/db.js';

// RFC 9457 problem details for the admin API: the one place that decides what
// an admin error looks like. `type` is a stable URI per code (docs/errors.md);
// `errors` names the fields at fault. Nothing of the request is echoed except
// field paths, and unexpected errors are logged, never shown. A Problem is a
// GatewayError like every other, and the fallback is the same toGatewayError.

export const PROBLEM_TYPE_BASE = 'urn:pgw:problem:';

export interface FieldProblem {
  field: string;
  detail: string;
}

export class Problem extends GatewayError<ProblemCode | 'server_error'> {
  constructor(
    code: ProblemCode | 'server_error',
    status: number,
    readonly title: string,
    readonly errors: FieldProblem[] = [],
    retryAfterSeconds?: number,
    /** RFC 9457 extension members, beside the standard ones. */
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(code, status, title);
    if (retryAfterSeconds !== undefined) this.retryAfterSeconds = retryAfterSeconds;
  }
}

export const notFound = () => new Problem('not_found', 404, 'No such resource');
export const invalidField = (field: string, detail: string) => new Problem('invalid_request', 400, 'The request is invalid', [{ field, detail }]);
export const ruleViolation = (code: ProblemCode, status: number, title: string, field: string, detail: string) => new Problem(code, status, title, [{ field, detail }]);

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  errors?: FieldProblem[];
}

export function problemBody(p: Problem): ProblemBody {
  return { type: PROBLEM_TYPE_BASE + p.code, title: p.title, status: p.status, ...(p.errors.length ? { errors: p.errors } : {}), ...p.extensions };
}

export function sendProblem(reply: FastifyReply, p: Problem) {
  if (p.retryAfterSeconds !== undefined) reply.header('retry-after', String(p.retryAfterSeconds));
  if (p.status === 401) reply.header('www-authenticate', 'Bearer realm="admin"');
  return reply.code(p.status).header('cache-control', 'no-store').type('application/problem+json').serializer(JSON.stringify).send(problemBody(p));
}

/** Any error thrown in the admin scope, as a problem. */
export function toProblem(err: unknown, request: FastifyRequest): Problem {
  if (hasZodFastifySchemaValidationErrors(err)) {
    const where = err.validationContext ?? 'body';
    return new Problem('invalid_request', 400, 'The request is invalid', err.validation.map((v) => ({ field: fieldName(where, v.instancePath), detail: v.message ?? 'invalid' })));
  }
  if (err instanceof ConstraintError) return new Problem('conflict', 409, 'The change conflicts with other registrations (still in use, or already exists)');
  const gateway = toGatewayError(err, (status) => new Problem('invalid_request', status, 'The request is malformed'));
  if (gateway instanceof Problem) return gateway;
  const known = ADMIN_NAMES[gateway.code];
  if (!known) {
    request.log.error({ err }, 'unexpected error');
    return new Problem('server_error', 500, 'Internal error');
  }
  if (gateway instanceof UnavailableError) {
    request.log.warn({ dependency: gateway.cause instanceof Error ? gateway.cause.message : undefined }, 'dependency unavailable');
  }
  return new Problem(known.code, gateway.status, known.title, [], gateway.retryAfterSeconds);
}

/** The login path's errors that reach the admin API, under the admin API's own codes (docs/errors.md). */
const ADMIN_NAMES: Partial<Record<ErrorCode, { code: ProblemCode; title: string }>> = {
  temporarily_unavailable: { code: 'unavailable', title: 'A dependency (database or Redis) is temporarily unavailable, try again shortly' },
  too_many_requests: { code: 'rate_limited', title: 'Too many requests, slow down' },
};

const fieldName = (where: string, instancePath: string): string => {
  const path = instancePath.replace(/^\//, '').replaceAll('/', '.');
  return where === 'body' ? path || '(body)' : `${where}.${path}`;
};

/**
 * Fastify's refusals before a route is found: a path parameter that is not
 * valid percent-encoded UTF-8, or longer than the router takes (414). Only the
 * admin API has path parameters, so these are admin problems (fastify's
 * `frameworkErrors` option, set in src/app.ts).
 */
export function answerFrameworkError(err: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  void sendProblem(reply, new Problem('invalid_request', err.statusCode === 414 ? 414 : 400, 'The request is malformed'));
}

export function registerProblemHandling(scope: FastifyInstance): void {
  scope.setErrorHandler((err, request, reply) => {
    const problem = toProblem(err, request);
    request.outcome = { code: problem.code };
    return sendProblem(reply, problem);
  });
}
