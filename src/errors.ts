// Errors carry a stable machine code and a fixed, ASCII-only description
// (RFC 6749 section 4.1.2.1 allows no quotes or backslashes there). No error
// ever includes request input: src/ops/error-handler.ts alone decides what
// leaves the process.

export abstract class GatewayError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    readonly description: string,
    /** A finer reason for the log only, where the caller must not learn it (research/reliability.md case 77). */
    readonly reason?: string,
  ) {
    super(`${code}: ${description}`);
    this.name = new.target.name;
  }
}

/** An OAuth 2.0 / OIDC protocol error (RFC 6749 sections 4.1.2.1 and 5.2, RFC 6750 section 3.1). */
export class OAuthError extends GatewayError {
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
export class PageError extends GatewayError {}

/** A dependency the login cannot do without (the KV store) failed: fail closed, ask to retry. */
export class UnavailableError extends GatewayError {
  constructor(override readonly cause: unknown) {
    super('temporarily_unavailable', 503, 'The service is temporarily unavailable, try again shortly');
  }
}

export const RETRY_AFTER_SECONDS = 5;

/** Too many requests for one key in the current window (src/ops/rate-limit.ts). */
export class RateLimitedError extends GatewayError {
  constructor(readonly retryAfterSeconds: number) {
    super('too_many_requests', 429, 'Too many requests, try again later');
  }
}
