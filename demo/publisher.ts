import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import * as oidc from 'openid-client';
import { esc, layout } from './html.js';
import type { DemoKeys } from './keys.js';
import type { DemoPublisher, DemoUrls } from './world.js';

// A demo publisher: a real OpenID Connect relying party on openid-client, as
// a publisher's learning platform would use it. It shows exactly what it
// received from the gateway: the pseudonym (`sub`) and the released claims.

/** What each publisher received, per demo browser (the home page compares them). */
export type Received = Map<string, Map<string, Record<string, unknown>>>;

const BROWSER_COOKIE = 'demo_browser';

export function browserId(request: FastifyRequest, reply: FastifyReply): string {
  const known = request.cookies[BROWSER_COOKIE];
  if (known && /^[A-Za-z0-9_-]{22}$/.test(known)) return known;
  const id = randomBytes(16).toString('base64url');
  reply.setCookie(BROWSER_COOKIE, id, { path: '/', httpOnly: true, sameSite: 'lax' });
  return id;
}

export function publisherApp(pub: DemoPublisher, urls: DemoUrls, keys: DemoKeys, received: Received): FastifyInstance {
  const base = urls[pub.clientId];
  const app = Fastify({ logger: false });
  void app.register(cookie);
  let config: oidc.Configuration | undefined;
  const discover = async () => {
    const auth = pub.clientId === 'rekenmeester'
      ? oidc.PrivateKeyJwt({ key: keys.rekenmeester.privateKey, kid: keys.rekenmeester.publicJwk.kid! })
      : oidc.ClientSecretBasic(keys.taalkanjerSecret);
    // Discovery over plain http: the demo runs on loopback only.
    config ??= await oidc.discovery(new URL(urls.gateway), pub.clientId, {}, auth, { execute: [oidc.allowInsecureRequests] });
    return config;
  };
  const pending = new Map<string, { verifier: string; state: string; nonce: string }>();
  const txCookie = `${pub.clientId}_login`;

  const page = (title: string, body: string) => layout(`${pub.name}: ${title}`, `<header><h1>${esc(pub.name)}</h1>
<p class="en" lang="en">Demo learning material by ${esc(pub.supplierName)} (supplier <code>${esc(pub.supplier)}</code>)</p></header>${body}`, pub.accent);

  async function startLogin(reply: FastifyReply) {
    const cfg = await discover();
    const login = { verifier: oidc.randomPKCECodeVerifier(), state: oidc.randomState(), nonce: oidc.randomNonce() };
    const tx = randomBytes(16).toString('base64url');
    pending.set(tx, login);
    setTimeout(() => pending.delete(tx), 600_000).unref();
    reply.setCookie(txCookie, tx, { path: '/', httpOnly: true, sameSite: 'lax' });
    const url = oidc.buildAuthorizationUrl(cfg, {
      redirect_uri: `${base}/callback`, scope: 'openid', state: login.state, nonce: login.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(login.verifier), code_challenge_method: 'S256',
    });
    return reply.code(303).header('location', url.toString()).send();
  }

  app.get('/', async (request, reply) => {
    const mine = received.get(browserId(request, reply))?.get(pub.clientId);
    return reply.type('text/html').send(page('start', `<p>Welkom! Log in via de inlogdienst van je school. <span class="en" lang="en">Welcome! Log in through your school's login service.</span></p>
<p><a class="button" id="login" href="/login">Inloggen / Log in</a></p>
${mine ? `<h2>Laatst ontvangen / Last received</h2>${claimsTable(mine)}` : ''}`));
  });

  app.get('/login', async (_request, reply) => startLogin(reply));

  // OIDC Core section 4: the gateway (iss) asks us to start a login, e.g. from a school portal tile.
  app.get('/launch', async (request, reply) => {
    const { iss } = request.query as { iss?: string };
    if (iss !== urls.gateway) return reply.code(400).type('text/html').send(page('fout', '<p>Onbekende inlogdienst. <span class="en" lang="en">Unknown login service.</span></p>'));
    return startLogin(reply);
  });

  app.get('/callback', async (request, reply) => {
    const current = new URL(request.url, base);
    const login = pending.get(request.cookies[txCookie] ?? '');
    if (current.searchParams.has('error')) {
      // OIDC Core 3.1.2.6: the error, and its description when the provider sent one (docs/errors.md lists them).
      const description = current.searchParams.get('error_description');
      return reply.code(400).type('text/html').send(page('fout', `<h2>Inloggen is niet gelukt <span class="en" lang="en">/ Login failed</span></h2>
<p>De inlogdienst meldde: <span class="en" lang="en">The login service reported:</span> <code id="error">${esc(current.searchParams.get('error'))}</code></p>
${description ? `<p id="error-description" lang="en">${esc(description)}</p>` : ''}
<p><a class="button" id="again" href="/login">Opnieuw inloggen / Log in again</a> <a class="button" href="${esc(urls.home)}">Terug naar de demo / Back to the demo</a></p>`));
    }
    if (!login) return reply.code(400).type('text/html').send(page('fout', '<p>Geen inlogpoging gevonden. <span class="en" lang="en">No login in progress.</span> <a href="/login">Opnieuw / Again</a></p>'));
    pending.delete(request.cookies[txCookie] ?? '');
    const tokens = await oidc.authorizationCodeGrant(await discover(), current, {
      pkceCodeVerifier: login.verifier, expectedState: login.state, expectedNonce: login.nonce, idTokenExpected: true,
    });
    const claims = { ...tokens.claims()! } as Record<string, unknown>;
    const browser = browserId(request, reply);
    if (!received.has(browser)) received.set(browser, new Map());
    received.get(browser)!.set(pub.clientId, claims);
    return reply.type('text/html').send(page('ingelogd', `<h2>Ingelogd / Logged in</h2>
${roleLine(claims.role)}
<p>Dit is alles wat ${esc(pub.name)} van de inlogdienst kreeg. <span class="en" lang="en">This is everything ${esc(pub.name)} received from the login service.</span></p>
${claimsTable(claims)}
<p><a class="button" href="${esc(urls.home)}">Terug naar de demo / Back to the demo</a></p>`));
  });
  return app;
}

/** Who logged in, as the released role says (a licence without role leaves it unsaid). */
function roleLine(role: unknown): string {
  const who = role === 'teacher' ? ['een leerkracht', 'a teacher'] : role === 'student' ? ['een leerling', 'a pupil'] : undefined;
  return who ? `<p id="role" class="role-${esc(role)}">Ingelogd als ${who[0]}. <span class="en" lang="en">Logged in as ${who[1]}.</span></p>` : '';
}

/** The released claims; the protocol claims (iss, aud, exp, …) below them. */
export function claimsTable(claims: Record<string, unknown>): string {
  const protocol = new Set(['iss', 'aud', 'exp', 'iat', 'nonce', 'auth_time', 'at_hash', 'azp']);
  const row = ([k, v]: [string, unknown]) => `<tr><th scope="row">${esc(k)}</th><td><code data-claim="${esc(k)}">${esc(JSON.stringify(v))}</code></td></tr>`;
  const entries = Object.entries(claims);
  return `<table><tbody>${entries.filter(([k]) => !protocol.has(k)).map(row).join('')}</tbody></table>
<details><summary>Protocolvelden / protocol claims</summary><table><tbody>${entries.filter(([k]) => protocol.has(k)).map(row).join('')}</tbody></table></details>`;
}
