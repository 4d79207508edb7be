import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar } from '../helpers/cookie-jar.js';
import { makeWorld, PUPIL, REKEN_CB, type World } from '../helpers/fixture.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { TestPublisher } from '../helpers/publisher.js';

// The school picker (where-are-you-from page), through real HTTP: an
// /authorize without school_hint in a world of two schools.

let world: World;
let gateway: TestGateway;
let reken: TestPublisher;

beforeAll(async () => {
  world = await makeWorld();
  gateway = await startGateway({ seed: world.seed });
  reken = await TestPublisher.create(gateway.url, 'rekenapp', REKEN_CB, { key: world.rekenKey });
});
afterAll(async () => {
  await gateway?.close();
});

/** /authorize without a hint: the URL of the picker page it sends the browser to. */
async function toPicker(jar: CookieJar, extra: Record<string, string> = {}) {
  const started = await reken.startLogin(extra);
  const res = await jar.get(started.url);
  expect(res.status).toBe(303);
  const location = new URL(res.headers.get('location')!);
  expect(`${location.origin}${location.pathname}`).toBe(`${gateway.url}/school/select`);
  return { started, picker: location };
}

async function page(jar: CookieJar, url: URL | string, headers: Record<string, string> = {}) {
  const res = await jar.get(url, headers);
  return { res, html: await res.text() };
}

/** The school links on a picker page. */
const links = (html: string) => [...html.matchAll(/<a href="([^"]+)">([^<]+) <span class="brin">\((\w+)\)<\/span><\/a>/g)]
  .map(([, href, name, id]) => ({ href: href!.replaceAll('&amp;', '&'), name, id }));

describe('the picker page', () => {
  it('is Dutch by default, lists the schools as links, and carries the security headers', async () => {
    const jar = new CookieJar();
    const { picker } = await toPicker(jar);
    const { res, html } = await page(jar, picker);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(html).toContain('<html lang="nl">');
    expect(html).toContain('Kies je school');
    expect(html).toMatch(/<label for="q">/);
    expect(html).toContain('role="status"');
    expect(links(html).map((l) => l.id)).toEqual(['12AB', '34CD01']);
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('names the service, the product being logged in to and its publisher, in the page\'s language', async () => {
    const jar = new CookieJar();
    const { picker } = await toPicker(jar);
    const nl = (await page(jar, picker)).html;
    expect(nl).toContain('<p class="service-name">Inlogdienst</p>');
    expect(nl).toContain('Je logt in bij <strong class="product-name">Rekenapp</strong> van Uitgever A.');
    const en = (await page(jar, picker, { 'accept-language': 'en' })).html;
    expect(en).toContain('<p class="service-name">Login service</p>');
    expect(en).toContain('You are logging in to <strong class="product-name">Rekenapp</strong> by Uitgever A.');
    // The icon the page names is there (no 404 in the browser's console).
    expect(nl).toContain('<link rel="icon" href="/favicon.svg"');
    for (const icon of ['/favicon.svg', '/favicon.ico']) {
      const res = await fetch(`${gateway.url}${icon}`);
      expect([res.status, res.headers.get('content-type')]).toEqual([200, 'image/svg+xml']);
    }
  });

  it('takes the service\'s name from SERVICE_NAME, on the picker and the logout page', async () => {
    const named = await startGateway({ seed: world.seed, env: { SERVICE_NAME: 'Schoolpoort Noord' } });
    try {
      const other = await TestPublisher.create(named.url, 'rekenapp', REKEN_CB, { key: world.rekenKey });
      const jar = new CookieJar();
      const res = await jar.get((await other.startLogin()).url);
      const { html } = await page(jar, res.headers.get('location')!);
      expect(html).toContain('<p class="service-name">Schoolpoort Noord</p>');
      expect(html).toContain('<title>Kies je school - Schoolpoort Noord</title>');
      expect(await (await fetch(`${named.url}/logout`)).text()).toContain('<p class="service-name">Schoolpoort Noord</p>');
    } finally {
      await named.close();
    }
  });

  it.each([
    ['en-GB,en;q=0.9,nl;q=0.5', 'en', 'Choose your school'],
    ['en', 'en', 'Choose your school'],
    ['nl-NL,nl;q=0.9,en;q=0.8', 'nl', 'Kies je school'],
    ['de-DE,de;q=0.9', 'nl', 'Kies je school'],
    ['en;q=0.5,nl;q=0.5', 'nl', 'Kies je school'],
  ])('Accept-Language %s gives %s', async (header, lang, title) => {
    const jar = new CookieJar();
    const { picker } = await toPicker(jar);
    const { html } = await page(jar, picker, { 'accept-language': header });
    expect(html).toContain(`<html lang="${lang}">`);
    expect(html).toContain(title);
  });

  it.each([
    ['klimop', ['34CD01']],
    ['KLIMOP', ['34CD01']],
    ['34cd', ['34CD01']],
    ['12AB', ['12AB']],
    ['de ', ['12AB', '34CD01']],
    ['regenboóg', ['12AB']],
    ['zzz', []],
  ])('search %s finds %j', async (q, ids) => {
    const jar = new CookieJar();
    const { picker } = await toPicker(jar);
    picker.searchParams.set('q', q);
    const { html } = await page(jar, picker);
    expect(links(html).map((l) => l.id)).toEqual(ids);
    if (!ids.length) expect(html).toContain('Geen school gevonden');
  });

  it('escapes what is typed', async () => {
    const jar = new CookieJar();
    const { picker } = await toPicker(jar);
    picker.searchParams.set('q', '"><script>alert(1)</script>');
    const { html } = await page(jar, picker);
    expect(html).not.toContain('<script>');
    expect(html).toContain('&quot;&gt;&lt;script&gt;');
  });

  it.each([
    ['an unknown login id', (u: URL) => u.searchParams.set('login', 'A'.repeat(43))],
    ['a malformed login id', (u: URL) => u.searchParams.set('login', '../../etc')],
    ['no login id', (u: URL) => u.searchParams.delete('login')],
  ])('%s is the login_expired page', async (_name, change) => {
    const jar = new CookieJar();
    const { picker } = await toPicker(jar);
    change(picker);
    const { res, html } = await page(jar, picker);
    expect(res.status).toBe(400);
    expect(html).toContain('login_expired');
  });
});

describe('choosing a school', () => {
  it('continues to that school, remembers it in a cookie, and the login completes', async () => {
    const jar = new CookieJar();
    const { started, picker } = await toPicker(jar);
    const { html } = await page(jar, picker);
    const klimop = links(html).find((l) => l.id === '34CD01')!;
    const chosen = await jar.get(new URL(klimop.href, gateway.url));
    expect(chosen.status).toBe(303);
    expect(jar.cookies.get('pgw_school')).toBe('34CD01');
    expect(jar.setCookies.find((l) => l.startsWith('pgw_school='))).toMatch(/HttpOnly; SameSite=Lax/i);
    const { payload } = await world.klimop.readLoginRequest(chosen.headers.get('location')!, gateway.signing.jwks, gateway.url);
    // Klimop has no licence for rekenapp: the login ends on the no-licence page, which proves the school was Klimop's.
    const posted = await jar.post(payload.return_to, { assertion: await world.klimop.assertion(PUPIL, { nonce: payload.nonce, aud: gateway.url }) });
    expect(posted.status).toBe(403);
    void started;
  });

  it('a choice is used once: the same link again is login_expired', async () => {
    const jar = new CookieJar();
    const { picker } = await toPicker(jar);
    const link = links((await page(jar, picker)).html).find((l) => l.id === '12AB')!;
    expect((await jar.get(new URL(link.href, gateway.url))).status).toBe(303);
    const again = await page(jar, new URL(link.href, gateway.url));
    expect(again.res.status).toBe(400);
    expect(again.html).toContain('login_expired');
  });

  it('an unknown school is the school_required page and leaves the login waiting', async () => {
    const jar = new CookieJar();
    const { picker } = await toPicker(jar);
    const wrong = new URL(picker);
    wrong.searchParams.set('school', '99ZZ');
    const { res, html } = await page(jar, wrong);
    expect(res.status).toBe(400);
    expect(html).toContain('school_required');
    expect((await page(jar, picker)).res.status).toBe(200);
  });

  it('the remembered school skips the picker next time; prompt=select_account shows it again', async () => {
    const jar = new CookieJar();
    const { picker } = await toPicker(jar);
    const link = links((await page(jar, picker)).html).find((l) => l.id === '12AB')!;
    await jar.get(new URL(link.href, gateway.url));
    const next = await jar.get((await reken.startLogin()).url);
    expect(next.status).toBe(303);
    expect(next.headers.get('location')!.startsWith(world.regenboog.loginUrl)).toBe(true);
    await toPicker(jar, { prompt: 'select_account' });
  });

  it('a full login through the picker gives the publisher its id_token', async () => {
    const jar = new CookieJar();
    const { started, picker } = await toPicker(jar);
    const link = links((await page(jar, picker)).html).find((l) => l.id === '12AB')!;
    const chosen = await jar.get(new URL(link.href, gateway.url));
    const { payload } = await world.regenboog.readLoginRequest(chosen.headers.get('location')!, gateway.signing.jwks, gateway.url);
    const posted = await jar.post(payload.return_to, { assertion: await world.regenboog.assertion(PUPIL, { nonce: payload.nonce, aud: gateway.url }) });
    expect(posted.status).toBe(303);
    const tokens = await reken.finishLogin(new URL(posted.headers.get('location')!), started);
    expect(tokens.claims()!.school).toBe('12AB');
  });
});
