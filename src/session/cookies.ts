import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CookieSerializeOptions } from '@fastify/cookie';

// The gateway's two cookies. On https, `__Host-` names with Secure, Path=/ and
// no Domain (RFC 6265bis section 4.1.3.2), so no other host can set or read
// them. Plain http is allowed only on loopback (config.ts), where a Secure
// cookie would not be stored, so there the prefix and Secure are dropped.
//
// SameSite=Lax: the cookies travel on the top-level GET navigations that bring
// a pupil from a learning material to /authorize. The school's cross-site POST
// back to the assertion endpoint needs no cookie (the pending login is bound
// by the gateway's nonce inside the signed assertion); its response only sets one.

export interface GatewayCookies {
  readonly session: string;
  readonly school: string;
  readonly attributes: CookieSerializeOptions;
}

export function gatewayCookies(issuer: string): GatewayCookies {
  const secure = issuer.startsWith('https:');
  const prefix = secure ? '__Host-' : '';
  return {
    session: `${prefix}pgw_session`,
    school: `${prefix}pgw_school`,
    attributes: { path: '/', httpOnly: true, sameSite: 'lax', secure },
  };
}

export const readCookie = (request: FastifyRequest, name: string): string | undefined => request.cookies[name];

export function setCookie(reply: FastifyReply, cookies: GatewayCookies, name: string, value: string, maxAgeSeconds: number): void {
  reply.setCookie(name, value, { ...cookies.attributes, maxAge: maxAgeSeconds });
}

export function clearCookie(reply: FastifyReply, cookies: GatewayCookies, name: string): void {
  reply.clearCookie(name, cookies.attributes);
}
