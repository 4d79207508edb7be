/**
 * The redirect of an authorization response, success or error (RFC 6749
 * sections 4.1.2 and 4.1.2.1): the registered redirect URI, its own query
 * kept, plus the response parameters, state when the client sent one, and
 * iss (RFC 9207). Only ever called with a verified redirect URI.
 */
export function authorizationResponseUrl(redirectUri: string, params: Record<string, string>, state: string | undefined, issuer: string): string {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  if (state !== undefined) url.searchParams.set('state', state);
  url.searchParams.set('iss', issuer);
  return url.toString();
}
