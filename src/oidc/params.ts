import type { FastifyRequest } from 'fastify';

export type RawParams = Record<string, string | string[] | undefined>;

const FORM = 'application/x-www-form-urlencoded';

/** True when the request body is an HTML form (the only body the OAuth endpoints take). */
export const isForm = (request: FastifyRequest): boolean =>
  (request.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase() === FORM;

/**
 * The parameters of a GET (query) or POST (form body) request. Both parsers
 * turn a repeated name into an array, which callers refuse (RFC 6749 section 3.1).
 */
export function collectParams(request: FastifyRequest): RawParams {
  if (request.method === 'POST') return isForm(request) ? ((request.body ?? {}) as RawParams) : {};
  return (request.query ?? {}) as RawParams;
}

/** The single value of a parameter; undefined when absent, empty or repeated. */
export function single(params: RawParams, name: string): string | undefined {
  const v = params[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export const isRepeated = (params: RawParams, name: string): boolean => Array.isArray(params[name]);

export const repeatedNames = (params: RawParams): string[] => Object.keys(params).filter((k) => isRepeated(params, k));
