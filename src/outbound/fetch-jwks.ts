import type { JSONWebKeySet } from 'jose';
import { request, type Dispatcher } from 'undici';
import { DestinationRefusedError } from './guarded-agent.js';

// One bounded GET of a remote JWKS (docs/remote-jwks.md): status 200, a JSON
// content type, at most MAX_JWKS_BYTES read, the whole exchange within the
// time limit, no redirect followed. Key selection stays with jose.

export const MAX_JWKS_BYTES = 64 * 1024;

/** RFC 7517 section 8.5.1 names application/jwk-set+json; most servers send application/json. */
const JWKS_MEDIA_TYPES = new Set(['application/json', 'application/jwk-set+json']);

export type JwksFetchFailure = 'destination_refused' | 'timeout' | 'network' | 'status' | 'content_type' | 'too_large' | 'not_jwks';

export class JwksFetchError extends Error {
  constructor(readonly reason: JwksFetchFailure, options?: ErrorOptions) {
    super(`remote JWKS fetch failed: ${reason}`, options);
    this.name = 'JwksFetchError';
  }
}

export interface FetchJwksOptions {
  readonly dispatcher: Dispatcher;
  readonly timeoutMs: number;
  readonly maxBytes?: number;
}

export async function fetchJwks(uri: string, options: FetchJwksOptions): Promise<JSONWebKeySet> {
  const maxBytes = options.maxBytes ?? MAX_JWKS_BYTES;
  const signal = AbortSignal.timeout(options.timeoutMs);
  let response: Dispatcher.ResponseData;
  try {
    response = await request(uri, { dispatcher: options.dispatcher, signal, headers: { accept: 'application/jwk-set+json, application/json' } });
  } catch (err) {
    throw failure(err);
  }
  try {
    if (response.statusCode !== 200) throw new JwksFetchError('status');
    if (!JWKS_MEDIA_TYPES.has(mediaType(response.headers['content-type']))) throw new JwksFetchError('content_type');
    if (Number(response.headers['content-length'] ?? 0) > maxBytes) throw new JwksFetchError('too_large');
    return parseJwks(await readCapped(response.body, maxBytes));
  } catch (err) {
    throw failure(err);
  } finally {
    // Whatever was not read is not read: the connection is dropped, not drained
    // (undici then reports the abort as an error event, which is expected here).
    if (!response.body.destroyed) response.body.on('error', () => undefined).destroy();
  }
}

export const mediaType = (header: string | string[] | undefined): string =>
  ((Array.isArray(header) ? header[0] : header) ?? '').split(';')[0]!.trim().toLowerCase();

export async function readCapped(body: AsyncIterable<Buffer>, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.length;
    if (total > maxBytes) throw new JwksFetchError('too_large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

function parseJwks(body: Buffer): JSONWebKeySet {
  let document: unknown;
  try {
    document = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch (err) {
    throw new JwksFetchError('not_jwks', { cause: err });
  }
  const keys = (document as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || !keys.every((k) => k !== null && typeof k === 'object' && !Array.isArray(k))) throw new JwksFetchError('not_jwks');
  return { keys: keys as JSONWebKeySet['keys'] };
}

function failure(err: unknown): JwksFetchError {
  if (err instanceof JwksFetchError) return err;
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  if (err instanceof DestinationRefusedError || cause instanceof DestinationRefusedError) return new JwksFetchError('destination_refused', { cause });
  const name = err instanceof Error ? err.name : '';
  if (name === 'TimeoutError' || name === 'AbortError' || (err as { code?: string } | null)?.code === 'UND_ERR_CONNECT_TIMEOUT') {
    return new JwksFetchError('timeout', { cause: err });
  }
  return new JwksFetchError('network', { cause: err });
}
