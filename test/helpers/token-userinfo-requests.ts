import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { SignJWT, type CryptoKey } from 'jose';
import { postAssertion, toSchool } from './browser.js';
import type { TestGateway } from './gateway.js';
import type { TestKey } from './keys.js';
import type { TestPublisher } from './publisher.js';
import type { PupilClaims, TestSchool } from './test-school.js';

// Raw requests to /token and /userinfo, as a publisher's own HTTP code would
// send them: negative tests need to send what a certified client never would.

export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export interface HttpResult {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The body when it is a JSON object. */
  readonly json: Record<string, unknown> | undefined;
}

export async function call(url: string | URL, init: RequestInit = {}): Promise<HttpResult> {
  const res = await fetch(url, { redirect: 'manual', ...init });
  const text = await res.text();
  let json: Record<string, unknown> | undefined;
  try {
    const value: unknown = JSON.parse(text);
    json = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** POST an application/x-www-form-urlencoded body; pairs allow repeated names. */
export const postToken = (url: string, form: Record<string, string> | [string, string][], headers: Record<string, string> = {}) =>
  call(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });

/** application/x-www-form-urlencoded encoding of one value (spaces as +). */
export const formEncode = (value: string): string => new URLSearchParams([['', value]]).toString().slice(1);

/** client_secret_basic as RFC 6749 section 2.3.1 says: form-encode id and secret, then base64. */
export const basicAuth = (clientId: string, secret: string): string =>
  `Basic ${Buffer.from(`${formEncode(clientId)}:${formEncode(secret)}`, 'utf8').toString('base64')}`;

export interface AssertionOptions {
  aud?: unknown;
  /** Milliseconds since the epoch; the gateway's clock in tests that move time. */
  now?: number;
  /** Overrides; an undefined value removes the claim. */
  claims?: Record<string, unknown>;
  /** Header overrides; an undefined value removes the member. */
  header?: Record<string, unknown>;
  /** Sign with this key instead of `key` (the header still names `key`'s alg and kid unless overridden). */
  signWith?: CryptoKey | Uint8Array;
}

/** A private_key_jwt client assertion (RFC 7523 section 3): iss = sub = client_id, 60 s life. */
export async function clientAssertion(key: TestKey, clientId: string, opts: AssertionOptions = {}): Promise<string> {
  const now = Math.floor((opts.now ?? Date.now()) / 1000);
  const claims: Record<string, unknown> = { iss: clientId, sub: clientId, aud: opts.aud, jti: randomUUID(), iat: now, exp: now + 60, ...opts.claims };
  for (const [k, v] of Object.entries(claims)) if (v === undefined) delete claims[k];
  const header: Record<string, unknown> = { alg: key.alg, kid: key.kid, ...opts.header };
  for (const [k, v] of Object.entries(header)) if (v === undefined) delete header[k];
  return new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(opts.signWith ?? key.privateKey);
}

/** An unsecured JWS (alg none): header.payload. with an empty signature. */
export const unsecuredJwt = (header: object, payload: object): string =>
  `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.`;

export interface IssuedCode {
  readonly code: string;
  readonly verifier: string;
  readonly redirectUri: string;
  readonly clientId: string;
}

/** Drive one login to the publisher's callback and read the code from the Location. */
export async function issueCode(
  gateway: TestGateway,
  school: TestSchool,
  publisher: TestPublisher,
  pupil: PupilClaims,
  now: number = Date.now(),
): Promise<IssuedCode> {
  const started = await publisher.startLogin({ school_hint: school.id });
  const step = await toSchool(gateway, school, started.url);
  const res = await postAssertion(step, await school.assertion(pupil, { nonce: step.nonce, aud: gateway.url, now }));
  expect(res.status).toBe(303);
  const callback = new URL(res.headers.get('location')!);
  const code = callback.searchParams.get('code');
  expect(code).toEqual(expect.any(String));
  return { code: code!, verifier: started.verifier, redirectUri: publisher.redirectUri, clientId: publisher.clientId };
}

/** The grant parameters of a correct redemption of `issued`. */
export const codeForm = (issued: IssuedCode): Record<string, string> => ({
  grant_type: 'authorization_code',
  code: issued.code,
  redirect_uri: issued.redirectUri,
  code_verifier: issued.verifier,
});

/** RFC 6749 section 5.1/5.2 and RFC 9700: every token response is JSON and not cacheable. */
export function expectTokenResponseHeaders(res: HttpResult): void {
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(res.headers.get('content-type')).toMatch(/^application\/json(;|$)/);
}

/** A token error response (RFC 6749 section 5.2): status, error code, JSON, no-store, no token. */
export function expectTokenError(res: HttpResult, status: number, error: string): void {
  expect({ status: res.status, error: res.json?.error }).toEqual({ status, error });
  expectTokenResponseHeaders(res);
  expect(Object.keys(res.json ?? {}).filter((k) => k !== 'error' && k !== 'error_description')).toEqual([]);
}

/** A successful token response (RFC 6749 section 5.1, OIDC Core 3.1.3.3). */
export function expectTokens(res: HttpResult): { accessToken: string; idToken: string } {
  expect({ status: res.status, error: res.json?.error }).toEqual({ status: 200, error: undefined });
  expectTokenResponseHeaders(res);
  expect(res.json?.token_type).toBe('Bearer');
  expect(typeof res.json?.access_token).toBe('string');
  expect(typeof res.json?.id_token).toBe('string');
  return { accessToken: res.json!.access_token as string, idToken: res.json!.id_token as string };
}
