import type { FastifyInstance } from 'fastify';

// The gateway's icon: named by every page (FAVICON_LINK in page.ts) and served
// at /favicon.ico too, for the browsers that ask for it anyway. Same origin, so
// the pages' img-src 'self' allows it.

const ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#00457c"/><path d="M9 16.5l5 5 9-11" fill="none" stroke="#fff" stroke-width="3.5" stroke-linecap="round" stroke-linejoin="round"/></svg>`;

export function registerFavicon(app: FastifyInstance): void {
  for (const url of ['/favicon.svg', '/favicon.ico']) {
    app.get(url, async (_request, reply) => reply.header('cache-control', 'public, max-age=86400').type('image/svg+xml').send(ICON));
  }
}
