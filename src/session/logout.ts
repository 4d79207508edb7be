import type { FastifyInstance, FastifyRequest } from 'fastify';
import { renderConfirmPage } from '../pages/confirm-page.js';
import { renderPage, type ServiceName } from '../pages/page.js';
import { CONFIRM_LOGOUT, LOGGED_OUT } from '../pages/messages.js';
import { clearCookie, gatewayCookies, readCookie } from './cookies.js';
import type { Kv } from '../store/kv.js';
import { endSession } from './session.js';

// /logout ends the SSO session in this browser (on a shared school computer,
// the next pupil must not find it). Only a POST from the gateway's own page
// does: GET shows a confirmation page whose button posts, so a link or a
// top-level navigation from another site ends nothing (login CSRF's twin).
// A POST whose Origin or Sec-Fetch-Site says it came from elsewhere gets the
// same confirmation page with 403. The logged-out page is the same whether or
// not there was a session.

const PATH = '/logout';

/** Fetch Metadata and Origin: a browser's POST from another origin, a sibling on the same site included, says so. */
function fromOwnPage(request: FastifyRequest, origin: string): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') return false;
  const sentOrigin = request.headers.origin;
  return sentOrigin === undefined || sentOrigin === origin;
}

export function registerLogout(app: FastifyInstance, ctx: { readonly issuer: string; readonly kv: Pick<Kv, 'del'>; readonly service: ServiceName }): void {
  const cookies = gatewayCookies(ctx.issuer);
  const origin = new URL(ctx.issuer).origin;
  const confirmation = renderConfirmPage(CONFIRM_LOGOUT, `${ctx.issuer}${PATH}`, { service: ctx.service });
  const html = 'text/html; charset=utf-8';

  app.get(PATH, { config: { errorStyle: 'page' } }, async (_request, reply) =>
    reply.header('cache-control', 'no-store').type(html).send(confirmation));

  app.post(PATH, { config: { errorStyle: 'page' } }, async (request, reply) => {
    reply.header('cache-control', 'no-store').type(html);
    if (!fromOwnPage(request, origin)) {
      request.outcome = { refused: 'logout_cross_site' };
      return reply.code(403).send(confirmation);
    }
    await endSession(ctx.kv, readCookie(request, cookies.session));
    clearCookie(reply, cookies.session);
    request.outcome = { loggedOut: true };
    return reply.send(renderPage(LOGGED_OUT, undefined, { service: ctx.service }));
  });
}
