import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar } from '../helpers/cookie-jar.js';
import { makeWorld, PUPIL, REKEN_CB, type World } from '../helpers/fixture.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { TestPublisher } from '../helpers/publisher.js';

// Logout in a real browser (Debian's Chromium): only the gateway's own
// confirmation page can end the session. A link or a form on another site
// cannot, whatever headers the browser sends on its own (Origin,
// Sec-Fetch-Site, and Origin: null under a no-referrer policy). Ephemeral
// ports; the session is made over HTTP and handed to the browser as a cookie.

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let world: World;
let gateway: TestGateway;
let reken: TestPublisher;
let browser: Browser;
let attacker: Server;
let attackerUrl: string;

beforeAll(async () => {
  world = await makeWorld();
  gateway = await startGateway({ seed: world.seed });
  reken = await TestPublisher.create(gateway.url, 'rekenapp', REKEN_CB, { key: world.rekenKey });
  // Another site: localhost is a different site from the gateway's 127.0.0.1.
  attacker = createServer((req, res) => {
    const page = req.url === '/form'
      ? `<form method="post" action="${gateway.url}/logout"><button id="go">win a prize</button></form>`
      : `<a id="go" href="${gateway.url}/logout">win a prize</a>`;
    res.writeHead(200, { 'content-type': 'text/html' }).end(page);
  });
  await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
  attackerUrl = `http://localhost:${(attacker.address() as AddressInfo).port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  attacker?.close();
  await gateway?.close();
});

/** A browser with a gateway session (made over HTTP), and a check that the session still opens products. */
async function browserWithSession(): Promise<{ context: BrowserContext; page: Page; stillLoggedIn: () => Promise<boolean> }> {
  const jar = new CookieJar();
  const started = await reken.startLogin({ school_hint: '12AB' });
  const toSchool = await jar.get(started.url);
  const { payload } = await world.regenboog.readLoginRequest(toSchool.headers.get('location')!, gateway.signing.jwks, gateway.url);
  expect((await jar.post(payload.return_to, { assertion: await world.regenboog.assertion(PUPIL, { nonce: payload.nonce, aud: gateway.url }) })).status).toBe(303);
  const value = jar.cookies.get('pgw_session')!;
  const context = await browser.newContext();
  await context.addCookies([{ name: 'pgw_session', value, domain: '127.0.0.1', path: '/', httpOnly: true, sameSite: 'Lax' }]);
  const stillLoggedIn = async () => {
    const again = await jar.get((await reken.startLogin({ school_hint: '12AB' })).url);
    return (again.headers.get('location') ?? '').startsWith(`${REKEN_CB}?code=`);
  };
  expect(await stillLoggedIn()).toBe(true);
  return { context, page: await context.newPage(), stillLoggedIn };
}

describe('logout in Chromium', () => {
  it('a link on another site leads to the confirmation page and ends nothing', async () => {
    const { context, page, stillLoggedIn } = await browserWithSession();
    await page.goto(`${attackerUrl}/link`);
    await Promise.all([page.waitForURL(`${gateway.url}/logout`), page.click('#go')]);
    expect(await page.textContent('h1')).toBe('Uitloggen?');
    expect(await stillLoggedIn()).toBe(true);
    await context.close();
  });

  it('a form on another site that posts to /logout: 403, session intact', async () => {
    const { context, page, stillLoggedIn } = await browserWithSession();
    await page.goto(`${attackerUrl}/form`);
    const [response] = await Promise.all([page.waitForResponse((r) => r.url() === `${gateway.url}/logout`), page.click('#go')]);
    expect(response.status()).toBe(403);
    expect(await stillLoggedIn()).toBe(true);
    await context.close();
  });

  it('the confirmation page\'s own button logs out', async () => {
    const { context, page, stillLoggedIn } = await browserWithSession();
    await page.goto(`${gateway.url}/logout`);
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url() === `${gateway.url}/logout` && r.request().method() === 'POST'),
      page.click('#confirm'),
    ]);
    expect(response.status()).toBe(200);
    // The browser's own headers on that POST: same-origin, and a real Origin despite the gateway's no-referrer policy.
    expect(await response.request().headerValue('sec-fetch-site')).toBe('same-origin');
    expect(await response.request().headerValue('origin')).toBe(gateway.url);
    await page.waitForLoadState();
    expect(await page.textContent('h1')).toBe('Je bent uitgelogd');
    expect(await stillLoggedIn()).toBe(false);
    await context.close();
  });
});
