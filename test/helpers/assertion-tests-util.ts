import { webcrypto } from 'node:crypto';
import type { TestKey } from './keys.js';

// Shared by test/http/assertion.test.ts and test/http/school-jwks.test.ts:
// hand-built JWS segments and a reader for the gateway's error pages.

export const b64u = (input: string | Uint8Array): string => Buffer.from(input).toString('base64url');

/**
 * ES256 over exactly the header and payload bytes given: lets a test put
 * duplicate members, forbidden names or odd JSON under a valid signature.
 */
export async function signRawEs256(key: TestKey, header: string | Uint8Array, payload: string | Uint8Array): Promise<string> {
  const input = `${b64u(header)}.${b64u(payload)}`;
  const signature = await webcrypto.subtle.sign(
    { name: 'ECDSA', hash: 'SHA-256' },
    key.privateKey,
    new TextEncoder().encode(input),
  );
  return `${input}.${b64u(new Uint8Array(signature))}`;
}

/** What a browser sees of a gateway answer that is not a redirect. */
export interface PageOutcome {
  status: number;
  /** The stable error code in the page's <code> element, or null if there is none. */
  code: string | null;
  location: string | null;
  html: boolean;
}

export async function pageOf(res: Response): Promise<PageOutcome> {
  const body = await res.text();
  const match = /<code>([^<]*)<\/code>/.exec(body);
  return {
    status: res.status,
    code: match ? match[1]! : null,
    location: res.headers.get('location'),
    html: (res.headers.get('content-type') ?? '').startsWith('text/html'),
  };
}

/** The outcome every refused school assertion must have: a page, never a redirect to the publisher. */
export const refusedPage = (code: string, status = 400): PageOutcome => ({ status, code, location: null, html: true });
