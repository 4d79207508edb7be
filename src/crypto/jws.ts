import { sign } from 'node:crypto';
import type { JWTPayload } from 'jose';
import { ASYMMETRIC_ALGS } from '../store/seed-schema.js';
import type { SigningKey } from './signing-keys.js';
import { parseStrictJson, StrictJsonError } from './strict-json.js';

/** Algorithms accepted on inbound JWTs (docs/school-assertion.md): never none, never HMAC. */
export const INBOUND_ALGS: string[] = [...ASYMMETRIC_ALGS];

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
export const MAX_JWS_LENGTH = 8192;
const MAX_CLAIMS = 100;

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

/** A compact JWS (RFC 7515) signed ES256: the signature is R || S, 64 bytes (RFC 7518 section 3.4). */
export function signJwt(key: SigningKey, typ: string, payload: JWTPayload): string {
  const input = `${b64url({ alg: key.alg, kid: key.kid, typ })}.${b64url(payload)}`;
  const signature = sign('sha256', Buffer.from(input, 'ascii'), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

export interface DecodedJws {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
}

/**
 * Decode a compact JWS without trusting it: size and shape first (before any
 * base64 work), then strict UTF-8 and strict JSON for header and payload.
 * Returns undefined for anything malformed. The signature is checked later.
 */
export function decodeUntrusted(token: string): DecodedJws | undefined {
  if (token.length > MAX_JWS_LENGTH || !COMPACT_JWS.test(token)) return undefined;
  const [h, p] = token.split('.') as [string, string, string];
  const header = decodeSegment(h);
  const payload = decodeSegment(p);
  if (!header || !payload || Object.keys(payload).length > MAX_CLAIMS) return undefined;
  return { header, payload };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeSegment(segment: string): Record<string, unknown> | undefined {
  try {
    const value = parseStrictJson(utf8.decode(Buffer.from(segment, 'base64url')));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch (err) {
    if (err instanceof StrictJsonError || err instanceof TypeError || err instanceof SyntaxError) return undefined;
    throw err;
  }
}

/** RFC 7515 section 4.1.9: typ is a media type, compared case-insensitively, "application/" optional. */
export function typIs(header: Record<string, unknown>, expected: string): boolean {
  const typ = header.typ;
  if (typeof typ !== 'string') return false;
  const normal = typ.toLowerCase();
  return normal === expected || normal === `application/${expected}`;
}
