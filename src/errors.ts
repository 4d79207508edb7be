// Every error the gateway answers with carries a code from one closed set
// (below), a status and a fixed, ASCII-only description (RFC 6749 section
// 4.1.2.1 allows no quotes or backslashes there). No error ever includes
// request input. src/ops/error-handler.ts (pages and OAuth answers) and
// src/admin/problem.ts (problem+json) decide what leaves the process; both
// start from toGatewayError below, the one fallback. docs/errors.md lists
// every code.

/**
 * Input the process cannot start with (the environment, a seed file): every
 * problem at once, each naming its field, printed as plain lines
 * (`invalid <subject>:` then one `  - problem` a line). Start-up and the CLI
 * print any of them the same way.
 */
export class ProblemsError extends Error {
  constructor(readonly subject: string, readonly problems: string[]) {
    super(`invalid ${subject}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ProblemsError';
  }
}

/** OAuth 2.0 / OpenID Connect protocol errors (RFC 6749 sections 4.1.2.1 and 5.2, RFC 6750 section 3.1, OIDC Core 3.1.2.6). */
export const OAUTH_CODES = [
  'invalid_request', 'invalid_client', 'invalid_grant', 'invalid_scope', 'invalid_token', 'unsupported_grant_type',
  'unsupported_response_type', 'login_required', 'request_not_supported', 'request_uri_not_supported', 'method_not_allowed',
] as const;

/** Why a school login assertion was refused: each a page code `assertion_<reason>` (docs/school-assertion.md). */
export const ASSERTION_REFUSALS = [
  'malformed', 'wrong_type', 'alg_not_allowed', 'kid_invalid', 'unknown_issuer', 'wrong_audience', 'unknown_key', 'key_unusable',
  'signature_invalid', 'claims_invalid', 'expired', 'not_yet_valid', 'lifetime_too_long', 'school_mismatch', 'replayed',
] as const;
export type AssertionRefusal = (typeof ASSERTION_REFUSALS)[number];
export type AssertionCode = `assertion_${AssertionRefusal}`;
export const ASSERTION_CODES: readonly AssertionCode[] = ASSERTION_REFUSALS.map((r) => `assertion_${r}` as const);

/**
 * Why a login through the school's own identity provider (OpenID Connect or
 * SAML) was refused (docs/school-login.md, "Refusals"): the same codes for
 * every upstream method.
 */
export const UPSTREAM_CODES = ['not_on_roster', 'wrong_tenant', 'upstream_denied', 'upstream_invalid', 'upstream_unavailable'] as const;
export type UpstreamCode = (typeof UPSTREAM_CODES)[number];

/** Browser-facing outcomes that never go back to the relying party: rendered as a page. */
export const PAGE_CODES = [
  'unknown_client_or_redirect_uri', 'school_required', 'login_expired', 'login_other_browser', 'no_licence', 'objection',
  'unknown_product', 'launch_not_supported', 'launch_not_allowed', 'school_unavailable', 'not_found', ...ASSERTION_CODES,
  ...UPSTREAM_CODES,
] as const;

/** Admin API problem codes (RFC 9457 `type` urn:pgw:problem:<code>). */
export const PROBLEM_CODES = [
  'invalid_request', 'unauthorized', 'forbidden', 'not_found', 'already_exists', 'conflict', 'unknown_reference',
  'claims_outside_ceiling', 'overlapping_validity', 'job_running', 'job_failed', 'jobs_busy', 'rate_limited', 'unavailable',
  'invalid_roster', 'import_running', 'unsupported_media_type',
] as const;

/** Codes every kind of answer can carry. */
export const SHARED_CODES = ['temporarily_unavailable', 'too_many_requests', 'server_error'] as const;

export type OAuthCode = (typeof OAUTH_CODES)[number];
export type PageCode = (typeof PAGE_CODES)[number];
export type ProblemCode = (typeof PROBLEM_CODES)[number];
export type SharedCode = (typeof SHARED_CODES)[number];
export type ErrorCode = OAuthCode | PageCode | ProblemCode | SharedCode;

export const RETRY_AFTER_SECONDS = 5;

export abstract class GatewayError<C extends ErrorCode = ErrorCode> extends Error {
  constructor(
    readonly code: C,
    readonly status: number,
    readonly description: string,
    /** A finer reason for the log only, where the caller must not learn it (docs/errors.md, "What is said and what is logged"). */
    readonly reason?: string,
  ) {
    super(`${code}: ${description}`);
    this.name = new.target.name;
    // A dependency that is away comes back: every 503 says when to try again.
    if (status === 503) this.retryAfterSeconds = RETRY_AFTER_SECONDS;
  }

  /** For 429 and 503: how long the caller should wait. */
  retryAfterSeconds?: number;
}

/** An OAuth 2.0 / OIDC protocol error (RFC 6749 sections 4.1.2.1 and 5.2, RFC 6750 section 3.1). */
export class OAuthError extends GatewayError<OAuthCode | SharedCode> {
  /** RFC 6750 section 3.1: the request had no credentials at all, so the challenge names no error. */
  noCredentials = false;
}

export const invalidRequest = (description: string) => new OAuthError('invalid_request', 400, description);
export const invalidGrant = (description: string) => new OAuthError('invalid_grant', 400, description);
export const invalidClient = (description: string) => new OAuthError('invalid_client', 401, description);
export const invalidToken = (description: string) => new OAuthError('invalid_token', 401, description);

/**
 * A browser-facing outcome that must not go back to the relying party: unknown
 * client, unverified redirect URI, a failed school assertion, no licence.
 */
export class PageError extends GatewayError<PageCode | SharedCode | 'invalid_request'> {
  /** A code from a closed set that the page shows beside its own (an upstream provider's OAuth error). */
  detail?: string;
}

/** A dependency the login cannot do without (the KV store) failed: fail closed, ask to retry. */
export class UnavailableError extends GatewayError<'temporarily_unavailable'> {
  constructor(override readonly cause: unknown) {
    super('temporarily_unavailable', 503, 'The service is temporarily unavailable, try again shortly');
  }
}

/** Too many requests for one key in the current window (src/ops/rate-limit.ts). */
export class RateLimitedError extends GatewayError<'too_many_requests'> {
  constructor(override readonly retryAfterSeconds: number) {
    super('too_many_requests', 429, 'Too many requests, try again later');
  }
}

/** A status Fastify itself set on an error it raised (body too large, bad content type, malformed body). */
const fastifyStatus = (err: unknown): number | undefined => {
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
};

/**
 * The one fallback: any error as a GatewayError. Ours pass through; a 4xx
 * Fastify raised is the client's fault (`malformed` names it); anything else
 * is a generic server_error, which the caller logs and never echoes.
 */
export function toGatewayError(err: unknown, malformed: (status: 400 | 413) => GatewayError): GatewayError {
  if (err instanceof GatewayError) return err as GatewayError;
  const status = fastifyStatus(err);
  if (status !== undefined && status >= 400 && status < 500) return malformed(status === 413 ? 413 : 400);
  return new ServerError();
}

/** Something unexpected: the caller sees only this, the log gets the original. */
export class ServerError extends GatewayError<'server_error'> {
  constructor() {
    super('server_error', 500, 'Internal error');
  }
}
