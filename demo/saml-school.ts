import type { FastifyInstance } from 'fastify';
import { autoPost, esc, layout } from './html.js';
import { readAuthnRequest, SamlIdp } from './saml-idp.js';
import { SAML_SCHOOL, samlEntityId, type DemoUrls } from './world.js';

// The demo's SAML school (docs/saml.md): Het Vuurtoren College logs in at a
// small SAML identity provider, like a school behind Entree. The gateway
// fetches its metadata, sends an AuthnRequest (HTTP-Redirect); here someone
// picks a person, and the identity provider posts a really signed SAML
// response to the gateway's ACS.

export function registerSamlSchool(app: FastifyInstance, urls: DemoUrls): void {
  const idp = new SamlIdp(samlEntityId(urls), `${urls.school}/saml/sso`);
  const acs = `${urls.gateway}/saml/acs`;
  const header = `<header><h1>${esc(SAML_SCHOOL.name)}: inloggen via SAML</h1><p class="en">Demo SAML identity provider (made-up people; a real one asks for a password).</p></header>`;
  const invalid = () => layout('Ongeldig verzoek', '<h1>Ongeldig inlogverzoek</h1><p class="en">Invalid login request.</p>');

  app.get('/saml/metadata', async (_request, reply) => reply.type('application/samlmetadata+xml').send(idp.metadataXml()));

  app.get('/saml/sso', async (request, reply) => {
    let authn;
    try {
      authn = readAuthnRequest(`${urls.school}${request.url}`);
    } catch {
      authn = undefined;
    }
    // This identity provider answers the demo gateway only.
    if (!authn || authn.acs !== acs) return reply.code(400).type('text/html').send(invalid());
    const buttons = SAML_SCHOOL.people.map((p) =>
      `<li><button type="submit" name="person" value="${esc(p.uid)}">Inloggen als ${esc(`${p.givenName} ${p.sn}`)} (${esc(p.affiliation)})</button></li>`).join('\n');
    return reply.type('text/html').send(layout(`${SAML_SCHOOL.name}: inloggen`, `${header}
<p>Wie ben jij? <span class="en">Who are you?</span></p>
<form method="post" action="/saml/sso"><input type="hidden" name="request" value="${esc(authn.id)}"><ul>${buttons}</ul></form>`));
  });

  app.post('/saml/sso', async (request, reply) => {
    const body = request.body as { request?: string; person?: string };
    const person = SAML_SCHOOL.people.find((p) => p.uid === body.person);
    if (!person || !body.request) return reply.code(400).type('text/html').send(invalid());
    const response = await idp.response({ ...person, brin: SAML_SCHOOL.id, homeOrganization: SAML_SCHOOL.name }, { inResponseTo: body.request, acs, audience: `${urls.gateway}/saml/metadata` });
    return reply.type('text/html').send(autoPost(acs, { SAMLResponse: response }, 'Je wordt doorgestuurd naar het lesmateriaal… / Taking you to the learning material…'));
  });
}
