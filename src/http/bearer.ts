// The one reader of `Authorization: Bearer <token>` (RFC 6750 section 2.1),
// for /userinfo, the admin API and the metrics route. The scheme is
// case-insensitive (RFC 9110 section 11.1); the token is a b64token.

const BEARER_SCHEME = /^Bearer(\s|$)/i;
const BEARER = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i;
/** RFC 6750's b64token, for the configured tokens that a caller must be able to present (src/config.ts). */
export const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

export type BearerCredentials =
  /** A well-formed bearer token (at most `maxLength` characters). */
  | { readonly token: string }
  /** No Authorization header, or another scheme: no credentials (RFC 6750 section 3.1). */
  | { readonly missing: 'none' }
  /** Bearer, but not a well-formed token (or a longer one than any we issue). */
  | { readonly missing: 'malformed' };

export function bearerCredentials(header: string | undefined, maxLength: number): BearerCredentials {
  if (header === undefined || !BEARER_SCHEME.test(header)) return { missing: 'none' };
  const token = BEARER.exec(header)?.[1];
  return token === undefined || token.length > maxLength ? { missing: 'malformed' } : { token };
}
