import type { FastifyRequest } from 'fastify';

export type RawParams = Record<string, string | string[] | undefined>;

const FORM = 'application/x-www-form-urlencoded';

/** True when the request body is an HTML form (the only body the OAuth endpoints take). */
export const isForm = (request: FastifyRequest): boolean =>
  (request.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase() === FORM;

/**
 * The parameters of a request: the query, and for a POST the form body too.
 * Both parsers turn a repeated name into an array, and a name in both the
 * query and the body becomes one as well, so callers can refuse every kind of
 * repetition (RFC 6749 section 3.1: a parameter may be sent at most once).
 */
export function collectParams(request: FastifyRequest): RawParams {
  const query = (request.query ?? {}) as RawParams;
  if (request.method !== 'POST') return query;
  const merged: RawParams = { ...formParams(request) };
  for (const [name, value] of Object.entries(query)) {
    const seen = merged[name];
    merged[name] = seen === undefined ? value : [seen, value ?? []].flat();
  }
  return merged;
}

/** The form body alone, for endpoints whose values must never travel in a URL (codes, assertions, credentials). */
export const formParams = (request: FastifyRequest): RawParams => (isForm(request) ? ((request.body ?? {}) as RawParams) : {});

/** The single value of a parameter; undefined when absent, empty or repeated. */
export function single(params: RawParams, name: string): string | undefined {
  const v = params[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export const isRepeated = (params: RawParams, name: string): boolean => Array.isArray(params[name]);

/** The names among `names` that were sent more than once; unknown parameters are ignored, repeated or not. */
export const repeatedNames = (params: RawParams, names: readonly string[]): string[] => names.filter((k) => isRepeated(params, k));
