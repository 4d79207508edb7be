import { expect } from 'vitest';

export interface AdminResponse {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
}

/** One admin API call through HTTP; `token` null sends no Authorization header. */
export async function adminCall(baseUrl: string, token: string | null, method: string, path: string, body?: unknown): Promise<AdminResponse> {
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${baseUrl}/admin/v1${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/** A client for one token against one gateway. */
export const adminClient = (baseUrl: string, token: string | null) => ({
  get: (path: string) => adminCall(baseUrl, token, 'GET', path),
  post: (path: string, body: unknown) => adminCall(baseUrl, token, 'POST', path, body),
  put: (path: string, body: unknown) => adminCall(baseUrl, token, 'PUT', path, body),
  patch: (path: string, body: unknown) => adminCall(baseUrl, token, 'PATCH', path, body),
  delete: (path: string) => adminCall(baseUrl, token, 'DELETE', path),
});
export type AdminClient = ReturnType<typeof adminClient>;

/** The admin API's refusal past its rate limit: 429, Retry-After, a problem body. */
export function expectRateLimited(res: AdminResponse): void {
  expect(res.status).toBe(429);
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  expect(res.body).toEqual({ type: 'urn:pgw:problem:rate_limited', title: 'Too many requests, slow down', status: 429 });
}
