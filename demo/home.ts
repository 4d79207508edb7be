import Fastify, { type FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import { esc, layout } from './html.js';
import { browserId, claimsTable, type Received } from './publisher.js';
import { PUBLISHERS, SCHOOLS, type DemoUrls } from './world.js';

// The one URL a newcomer opens: what to click, and side by side what the two
// publishers received for the same pupil in this browser.

export function homeApp(urls: DemoUrls, received: Received): FastifyInstance {
  const app = Fastify({ logger: false });
  void app.register(cookie);
  app.get('/', async (request, reply) => {
    const mine = received.get(browserId(request, reply));
    const results = PUBLISHERS.map((p) => {
      const claims = mine?.get(p.clientId);
      return `<div class="card" id="result-${p.clientId}"><h3>${esc(p.name)} <span class="en" lang="en">(${esc(p.supplierName)})</span></h3>${claims
        ? claimsTable(claims)
        : '<p>Nog niets ontvangen. <span class="en" lang="en">Nothing received yet.</span></p>'}</div>`;
    }).join('\n');
    const subs = PUBLISHERS.map((p) => mine?.get(p.clientId)?.sub).filter((s): s is string => typeof s === 'string');
    // Who it is, as a publisher that may see the role was told: a teacher is no pupil.
    const role = PUBLISHERS.map((p) => mine?.get(p.clientId)?.role).find((r) => r !== undefined);
    const [nl, en] = role === 'teacher' ? ['dezelfde leerkracht', 'the same teacher'] : role === 'student' ? ['dezelfde leerling', 'the same pupil'] : ['dezelfde persoon', 'the same person'];
    const verdict = subs.length === 2
      ? `<p id="verdict"><strong>${subs[0] === subs[1] ? 'Zelfde pseudoniem / same pseudonym' : `Twee verschillende pseudoniemen voor ${nl}: de uitgevers kunnen hun gegevens niet koppelen. <span class="en" lang="en">Two different pseudonyms for ${en}: the suppliers cannot link their records.</span>`}</strong></p>`
      : '';
    return reply.type('text/html').send(layout('Demo: pseudonimiserende inlogdienst', `<header><h1>Demo: de pseudonimiserende inlogdienst</h1>
<p class="en" lang="en">Demo: the pseudonymising login gateway for education. Everything here is made up and runs on this computer.</p></header>
<h2>Probeer het / Try it</h2>
<ol>
<li>Open <a id="open-rekenmeester" href="${esc(urls.rekenmeester)}">Rekenmeester</a> en log in: kies je school, log in als een leerling.
<span class="en" lang="en">Open Rekenmeester and log in: choose a school, log in as a pupil.</span></li>
<li>Open daarna <a id="open-taalkanjer" href="${esc(urls.taalkanjer)}">Taalkanjer</a>: je hoeft niet opnieuw in te loggen.
<span class="en" lang="en">Then open Taalkanjer: no second school login.</span></li>
<li>Vergelijk hieronder wat beide uitgevers kregen. <span class="en" lang="en">Compare below what both publishers received.</span></li>
<li>Of start vanuit het schoolportaal: ${SCHOOLS.map((s) => `<a id="portal-${s.slug}" href="${esc(`${urls.school}/${s.slug}/portal`)}">${esc(s.name)}</a>`).join(', ')}.
<span class="en" lang="en">Or start from a school portal.</span></li>
<li><a id="logout" href="${esc(`${urls.gateway}/logout`)}">Uitloggen bij de inlogdienst / Log out of the gateway</a></li>
</ol>
<h2>Wat kregen de uitgevers? / What did the publishers receive?</h2>
${verdict}
<div class="grid">${results}</div>`));
  });
  return app;
}
