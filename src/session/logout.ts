import type { FastifyInstance } from 'fastify';
import { renderPage } from '../pages/page.js';
import { LOGGED_OUT } from '../pages/messages.js';
import { clearCookie, gatewayCookies, readCookie } from './cookies.js';
import type { Kv } from '../store/kv.js';
import { endSession } from './session.js';

// GET|POST /logout: ends the SSO session in this browser (on a shared school
// computer, the next pupil must not find it). Always answers with the same
// page, whether or not there was a session.

export function registerLogout(app: FastifyInstance, ctx: { readonly issuer: string; readonly kv: Pick<Kv, 'del'> }): void {
  const cookies = gatewayCookies(ctx.issuer);
  app.route({
    method: ['GET', 'POST'],
    url: '/logout',
    config: { errorStyle: 'page' },
    handler: async (request, reply) => {
      await endSession(ctx.kv, readCookie(request, cookies.session));
      clearCookie(reply, cookies.session);
      request.outcome = { loggedOut: true };
      return reply.header('cache-control', 'no-store').type('text/html; charset=utf-8').send(renderPage(LOGGED_OUT));
    },
  });
}
