import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { OAuthError, PageError, toGatewayError, type GatewayError, type PageCode } from '../errors.js';
import { authorizationResponseUrl } from '../login/authorization-response.js';
import { messageFor, type PageMessageCode } from '../pages/messages.js';
import { renderPage, type PageContext } from '../pages/page.js';

// The one place that decides what an error looks like to the caller of the
// login and token endpoints and what is logged (the admin API's problem+json
// is src/admin/problem.ts). Each route names its style; anything unexpected
// becomes a generic server_error and is logged, never echoed (docs/errors.md).

export type ErrorStyle = 'page' | 'authorize' | 'token' | 'bearer' | 'json';

/** A relying party's verified redirect URI: only then may an error go back to it (RFC 6749 section 4.1.2.1). */
export interface RedirectTarget {
  redirectUri: string;
  state?: string;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    errorStyle?: ErrorStyle;
    /** The page code for a body Fastify itself refuses (size, content type), where the route has a better one than invalid_request. */
    malformedCode?: PageCode;
  }
  interface FastifyRequest {
    redirectTarget?: RedirectTarget;
    /** The client the pupil is logging in to, once the request names a registered one: its pages name it. */
    product?: string | undefined;
    /** Non-personal facts about what the request decided, logged on its one completion line. */
    outcome?: Record<string, unknown>;
  }
}

/** What an error page says besides its message: the service's name, and the product the request named (request.product). */
export type PageContextOf = (request: FastifyRequest) => PageContext;

export function registerErrorHandling(app: FastifyInstance, issuer: string, pageContext: PageContextOf): void {
  // The routes' methods by path, collected as routes register (HEAD is implied by GET).
  const methodsByPath = new Map<string, Set<string>>();
  app.addHook('onRoute', ({ url, method }) => {
    const methods = methodsByPath.get(url) ?? new Set<string>();
    for (const m of [method].flat()) if (m !== 'HEAD') methods.add(m);
    methodsByPath.set(url, methods);
  });
  app.setErrorHandler((raw: FastifyError | Error, request, reply) => {
    const code = request.routeOptions.config.malformedCode;
    const err = toGatewayError(raw, (status) =>
      code === undefined ? new OAuthError('invalid_request', status, 'The request is malformed') : new PageError(code, status, 'The request is malformed'));
    logOutcome(request, err, raw);
    return send(reply, request, err, issuer, pageContext);
  });
  app.setNotFoundHandler((request, reply) => {
    // A known path with another method is a 405, with Allow (RFC 9110 section 15.5.6).
    const allowed = methodsByPath.get(request.url.split('?', 1)[0]!);
    if (allowed) {
      reply.header('allow', [...allowed].join(', '));
      return send(reply, request, new OAuthError('method_not_allowed', 405, 'Method not allowed'), issuer, pageContext, 'json');
    }
    const err = new PageError('not_found', 404, 'No such resource');
    return send(reply, request, err, issuer, pageContext, request.method === 'GET' && acceptsHtml(request) ? 'page' : 'json');
  });
}

function logOutcome(request: FastifyRequest, err: GatewayError, raw: Error): void {
  if (err.status >= 500 && err.code === 'server_error') {
    request.log.error({ err: raw }, 'unexpected error');
  } else if (err.status === 503) {
    const cause = (err as { cause?: unknown }).cause;
    request.log.warn({ code: err.code, dependency: cause instanceof Error ? cause.message : undefined }, 'dependency unavailable');
  } else {
    request.outcome = { code: err.code, ...(err.reason === undefined ? {} : { reason: err.reason }) };
  }
}

function send(reply: FastifyReply, request: FastifyRequest, err: GatewayError, issuer: string, pageContext: PageContextOf, forced?: ErrorStyle) {
  const style = forced ?? request.routeOptions.config.errorStyle ?? 'json';
  if (err.retryAfterSeconds !== undefined) reply.header('retry-after', String(err.retryAfterSeconds));
  reply.header('cache-control', 'no-store');
  switch (style) {
    case 'authorize':
      if (err instanceof OAuthError && request.redirectTarget) return redirectError(reply, request.redirectTarget, err, issuer);
      return sendPage(reply, err, pageContext(request));
    case 'page':
      return sendPage(reply, err, pageContext(request));
    case 'token':
      // A 401 carries a challenge (RFC 9110 section 15.5.2); Basic is the one header scheme /token takes.
      if (err.code === 'invalid_client') reply.header('www-authenticate', 'Basic realm="token"');
      return reply.code(err.status).send({ error: err.code, error_description: err.description });
    case 'bearer':
      // RFC 6750 section 3: every refusal of a bearer request says so; with no credentials, without an error.
      if (err instanceof OAuthError) {
        reply.header('www-authenticate', err.noCredentials ? 'Bearer realm="userinfo"' : `Bearer realm="userinfo", error="${err.code}", error_description="${err.description}"`);
      }
      return reply.code(err.status).send({ error: err.code, error_description: err.description });
    case 'json':
      return reply.code(err.status).send({ error: err.code, error_description: err.description });
  }
}

function sendPage(reply: FastifyReply, err: GatewayError, context: PageContext) {
  const detail = err instanceof PageError ? err.detail : undefined;
  return reply.code(err.status).type('text/html; charset=utf-8').send(renderPage(messageFor(err.code as PageMessageCode), err.code, context, detail));
}

/** RFC 6749 section 4.1.2.1 error response, with iss (RFC 9207). */
function redirectError(reply: FastifyReply, target: RedirectTarget, err: OAuthError, issuer: string) {
  const location = authorizationResponseUrl(target.redirectUri, { error: err.code, error_description: err.description }, target.state, issuer);
  return reply.code(303).header('location', location).send();
}

const acceptsHtml = (request: FastifyRequest): boolean => (request.headers.accept ?? '').includes('text/html');
