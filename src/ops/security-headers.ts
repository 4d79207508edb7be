import type { FastifyInstance } from 'fastify';

// No framing (RFC 9700 section 4.16), no Referer (codes travel in URLs, RFC 9700
// section 4.2.4), no sniffing, and pages that load nothing from elsewhere.
const HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'cross-origin-opener-policy': 'same-origin',
};

export function registerSecurityHeaders(app: FastifyInstance, https: boolean): void {
  const headers = https ? { ...HEADERS, 'strict-transport-security': 'max-age=31536000; includeSubDomains' } : HEADERS;
  app.addHook('onSend', async (_request, reply) => {
    reply.headers(headers);
  });
}
