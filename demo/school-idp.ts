import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import formBody from '@fastify/formbody';
import { createRemoteJWKSet, jwtVerify, SignJWT, type CryptoKey } from 'jose';
import { autoPost, esc, layout } from './html.js';
import type { DemoKeys } from './keys.js';
import { PUBLISHERS, SCHOOLS, schoolIssuer, type DemoPerson, type DemoSchool, type DemoUrls } from './world.js';

// A demo school identity provider for both made-up schools. It does what a
// real school IdP does for the gateway (docs/school-assertion.md): verify the
// gateway's signed login request, let someone log in (here: pick a person),
// sign an assertion and post it back to return_to. Its portal does the
// school-started launch: an assertion with `target` instead of `nonce`.

export function schoolIdp(urls: DemoUrls, keys: DemoKeys): FastifyInstance {
  const app = Fastify({ logger: false });
  void app.register(formBody);
  const gatewayKeys = createRemoteJWKSet(new URL(`${urls.gateway}/jwks.json`));
  const keyOf = (s: DemoSchool): CryptoKey => keys[s.slug].privateKey;

  async function loginRequest(school: DemoSchool, request: unknown) {
    if (typeof request !== 'string') throw new Error('no login request');
    const { payload } = await jwtVerify(request, gatewayKeys, {
      issuer: urls.gateway, audience: schoolIssuer(urls, school), typ: 'school-login-request+jwt',
    });
    return payload as { nonce: string; return_to: string };
  }

  function assertion(school: DemoSchool, person: DemoPerson, binding: { nonce: string } | { target: string }) {
    const now = Math.floor(Date.now() / 1000);
    const { key, ...attributes } = person;
    return new SignJWT({ ...attributes, sub: key, school: school.id, jti: randomUUID(), ...binding })
      .setProtectedHeader({ alg: 'ES256', kid: keys[school.slug].publicJwk.kid!, typ: 'school-assertion+jwt' })
      .setIssuer(schoolIssuer(urls, school)).setAudience(urls.gateway).setIssuedAt(now).setExpirationTime(now + 120)
      .sign(keyOf(school));
  }

  const personLabel = (p: DemoPerson) => `${p.given_name} ${p.tussenvoegsel ? `${p.tussenvoegsel} ` : ''}${p.family_name} (${p.role === 'teacher' ? 'leerkracht / teacher' : p.groups[0]?.name ?? ''})`;
  const header = (school: DemoSchool, what: string) =>
    `<header><h1>${esc(school.name)}: ${esc(what)}</h1><p class="en" lang="en">Demo school login (made-up people; a real school asks for a password).</p></header>`;

  for (const school of SCHOOLS) {
    const base = `/${school.slug}`;

    app.get(`${base}/login`, async (request, reply) => {
      const { request: jws } = request.query as { request?: string };
      try {
        await loginRequest(school, jws);
      } catch {
        return reply.code(400).type('text/html').send(layout('Ongeldig verzoek', '<h1>Ongeldig inlogverzoek</h1><p class="en" lang="en">Invalid login request.</p>'));
      }
      const buttons = school.people.map((p) =>
        `<li><button type="submit" name="person" value="${esc(p.key)}">Inloggen als ${esc(personLabel(p))}</button></li>`).join('\n');
      return reply.type('text/html').send(layout(`${school.name}: inloggen`, `${header(school, 'inloggen')}
<p>Wie ben jij? <span class="en" lang="en">Who are you?</span></p>
<form method="post" action="${base}/login"><input type="hidden" name="request" value="${esc(jws)}"><ul>${buttons}</ul></form>`));
    });

    app.post(`${base}/login`, async (request, reply) => {
      const body = request.body as { request?: string; person?: string };
      const person = school.people.find((p) => p.key === body.person);
      let login;
      try {
        login = await loginRequest(school, body.request);
      } catch {
        login = undefined;
      }
      if (!person || !login) return reply.code(400).type('text/html').send(layout('Ongeldig verzoek', '<h1>Ongeldig verzoek</h1>'));
      const signed = await assertion(school, person, { nonce: login.nonce });
      return reply.type('text/html').send(autoPost(login.return_to, { assertion: signed }, `Je wordt doorgestuurd naar het lesmateriaal… / Taking you to the learning material…`));
    });

    app.get(`${base}/portal`, async (_request, reply) => {
      const cards = school.people.map((p) => `<div class="card"><h2>${esc(personLabel(p))}</h2>
<form method="post" action="${base}/portal">${PUBLISHERS.map((pub) =>
        `<button type="submit" name="open" value="${esc(`${p.key}|${pub.clientId}`)}">Open ${esc(pub.name)}</button>`).join('')}</form></div>`).join('\n');
      return reply.type('text/html').send(layout(`${school.name}: schoolportaal`, `${header(school, 'schoolportaal')}
<p>Het portaal van de school opent lesmateriaal direct (school-started launch). <span class="en" lang="en">The school's portal opens learning material directly.</span></p>
<div class="grid">${cards}</div>`));
    });

    app.post(`${base}/portal`, async (request, reply) => {
      const [key, target] = String((request.body as { open?: string }).open ?? '').split('|');
      const person = school.people.find((p) => p.key === key);
      if (!person || !target) return reply.code(400).type('text/html').send(layout('Ongeldig verzoek', '<h1>Ongeldig verzoek</h1>'));
      const signed = await assertion(school, person, { target });
      return reply.type('text/html').send(autoPost(`${urls.gateway}/school/assertion`, { assertion: signed }, 'Lesmateriaal openen… / Opening the learning material…'));
    });
  }
  return app;
}
