import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CookieSerializeOptions } from '@fastify/cookie';

// The gateway's three cookies (docs/login-journey.md, "Cookies"). On https,
// `__Host-` names with Secure, Path=/ and no Domain (RFC 6265bis section
// 4.1.3.2), so no other host can set or read them. Plain http is allowed only
// on loopback (src/config.ts).
//
// - session (the SSO session) and school (the picked school): SameSite=Lax.
//   They travel on the top-level GET navigations that bring a pupil from a
//   learning material to /authorize. On http loopback they drop the prefix
//   and Secure.
// - login (binds a pending login to the browser that started it): it must
//   travel on the school's cross-site answer too (a POST from the school's
//   identity provider), so SameSite=None, which browsers accept only with
//   Secure. On http loopback it keeps Secure and drops the prefix: browsers
//   treat loopback as a secure context and keep it (the fallback, for
//   development and tests only).

export interface GatewayCookie {
  readonly name: string;
  readonly attributes: CookieSerializeOptions;
}

export interface GatewayCookies {
  readonly session: GatewayCookie;
  readonly school: GatewayCookie;
  readonly login: GatewayCookie;
}

export function gatewayCookies(issuer: string): GatewayCookies {
  const secure = issuer.startsWith('https:');
  const prefix = secure ? '__Host-' : '';
  const firstParty: CookieSerializeOptions = { path: '/', httpOnly: true, sameSite: 'lax', secure };
  return {
    session: { name: `${prefix}pgw_session`, attributes: firstParty },
    school: { name: `${prefix}pgw_school`, attributes: firstParty },
    login: { name: `${prefix}pgw_login`, attributes: { path: '/', httpOnly: true, sameSite: 'none', secure: true } },
  };
}

export const readCookie = (request: FastifyRequest, cookie: GatewayCookie): string | undefined => request.cookies[cookie.name];

export function setCookie(reply: FastifyReply, cookie: GatewayCookie, value: string, maxAgeSeconds: number): void {
  reply.setCookie(cookie.name, value, { ...cookie.attributes, maxAge: maxAgeSeconds });
}

export function clearCookie(reply: FastifyReply, cookie: GatewayCookie): void {
  reply.clearCookie(cookie.name, cookie.attributes);
}
