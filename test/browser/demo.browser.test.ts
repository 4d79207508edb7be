import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page, type Response } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startDemo, type Demo } from '../../demo/start.js';
import { freePort } from '../helpers/net.js';

// The demo through a real browser (Debian's Chromium driven by playwright-core)
// and the demo a newcomer runs: picker, school login, publisher A, publisher B
// without a second school login, the school-started launch, logout and the
// error pages. Screenshots of every page go to test-artifacts/screenshots.

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = join(process.cwd(), 'test-artifacts', 'screenshots');

let demo: Demo;
let dataDir: string;
let browser: Browser;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'pgw-demo-'));
  await mkdir(SHOTS, { recursive: true });
  demo = await startDemo({
    dataDir,
    ports: { gateway: await freePort(), school: await freePort(), rekenmeester: await freePort(), taalkanjer: await freePort(), home: await freePort(), upstream: await freePort() },
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await demo?.close();
  await rm(dataDir, { recursive: true, force: true });
});

const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

/** On a failed test: where the page was and what it showed (a screenshot named after the test), for CI's artifacts. */
function keepEvidenceOfFailure(current: () => Page | undefined): void {
  afterEach(async ({ task }) => {
    const page = current();
    if (task.result?.state !== 'fail' || !page || page.isClosed()) return;
    console.error(`failed at ${page.url()}`);
    await shot(page, `failed-${task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}`).catch(() => undefined);
  });
}
const claim = async (page: Page, name: string) => {
  const el = page.locator(`code[data-claim="${name}"]`);
  return (await el.count()) ? (JSON.parse((await el.textContent())!) as unknown) : undefined;
};

/** The gateway's security headers on a browser-facing page . */
function expectSecurityHeaders(res: Response | null) {
  const headers = res!.headers();
  expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
  expect(headers['referrer-policy']).toBe('no-referrer');
  expect(headers['x-content-type-options']).toBe('nosniff');
}

/** Every host the browser asked for in `run`. */
async function hostsDuring(page: Page, run: () => Promise<void>): Promise<Set<string>> {
  const hosts = new Set<string>();
  const listen = (req: { url(): string }) => hosts.add(new URL(req.url()).host);
  page.on('request', listen);
  try {
    await run();
  } finally {
    page.off('request', listen);
  }
  return hosts;
}

/**
 * Keyboard only, on the picker: the search field has focus (autofocus, which Chromium applies
 * at a rendering step after the load event, so the test waits for it instead of racing it),
 * type, Enter, and the results for the query.
 */
async function searchPicker(page: Page, query: string): Promise<void> {
  await page.waitForSelector('#q:focus');
  await page.keyboard.type(query);
  await page.keyboard.press('Enter');
  await page.waitForURL(new RegExp(`q=${query}`));
}

/** Publisher B from the SSO session: the browser never visits `school` (the school's login) on the way; B's pseudonym. */
async function loginAtBFromSession(page: Page, school: string, shotName: string): Promise<unknown> {
  await page.goto(demo.urls.taalkanjer);
  const hosts = await hostsDuring(page, async () => {
    await page.click('#login');
    await page.waitForURL(`${demo.urls.taalkanjer}/callback**`);
  });
  expect(hosts.has(new URL(school).host)).toBe(false);
  await shot(page, shotName);
  const sub = await claim(page, 'sub');
  expect(sub).toMatch(/^[a-z2-7]{32}$/);
  return sub;
}

describe('the demo in a real browser', () => {
  let context: BrowserContext;
  let page: Page;
  let rekenSub: unknown;

  keepEvidenceOfFailure(() => page);
  beforeAll(async () => {
    context = await browser.newContext({ locale: 'nl-NL' });
    page = await context.newPage();
  });
  afterAll(async () => {
    await context?.close();
  });

  it('publisher A: the picker (by keyboard), the school login, and A gets a pseudonym and no name', async () => {
    await page.goto(demo.urls.home);
    await shot(page, '01-demo-home');
    await page.click('#open-rekenmeester');
    await page.click('#login');
    await page.waitForURL(/\/school\/select\?login=/);
    expect(await page.getAttribute('html', 'lang')).toBe('nl');
    await expect.poll(() => page.textContent('h1')).toBe('Kies je school');
    await shot(page, '02-picker');
    // Keyboard only: the search field has focus, type, Enter, Tab to the first result, Enter.
    await searchPicker(page, 'regenboog');
    expect(await page.textContent('#status')).toContain('1 school gevonden');
    await shot(page, '03-picker-search');
    await page.focus('ul.schools a');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/regenboog\/login\?request=/);
    await shot(page, '04-school-login');
    await page.click('text=Inloggen als Sanne de Vries');
    await page.waitForURL(`${demo.urls.rekenmeester}/callback**`);
    await shot(page, '05-publisher-a');
    rekenSub = await claim(page, 'sub');
    expect(rekenSub).toMatch(/^[a-z2-7]{32}$/);
    expect(await claim(page, 'school')).toBe('99DR');
    expect(await claim(page, 'grade')).toBe(5);
    expect(await claim(page, 'given_name')).toBeUndefined();
    expect(await claim(page, 'family_name')).toBeUndefined();
  });

  it('publisher B: no picker and no school login (the session), another pseudonym, and the licensed first name', async () => {
    const sub = await loginAtBFromSession(page, demo.urls.school, '06-publisher-b');
    expect(sub).not.toBe(rekenSub);
    expect(await claim(page, 'given_name')).toBe('Sanne');
    expect(await claim(page, 'family_name')).toBeUndefined();
    expect(await claim(page, 'role')).toBe('student');
  });

  it('the demo home shows both side by side: different pseudonyms', async () => {
    await page.goto(demo.urls.home);
    expect(await page.textContent('#verdict')).toContain('Twee verschillende pseudoniemen');
    await shot(page, '07-demo-home-compared');
  });

  it('school-started launch: the portal tile opens publisher A through its initiateLoginUri, without a login form', async () => {
    await page.goto(`${demo.urls.school}/regenboog/portal`);
    await shot(page, '08-school-portal');
    await page.locator('.card', { hasText: 'Daan Bakker' }).locator('button', { hasText: 'Open Rekenmeester' }).click();
    await page.waitForURL(`${demo.urls.rekenmeester}/callback**`);
    await shot(page, '09-launched-publisher-a');
    const sub = await claim(page, 'sub');
    expect(sub).toMatch(/^[a-z2-7]{32}$/);
    expect(sub).not.toBe(rekenSub);
    expect(await claim(page, 'grade')).toBe(8);
  });

  it('a portal tile for a product without initiateLoginUri: a friendly page with its code', async () => {
    await page.goto(`${demo.urls.school}/regenboog/portal`);
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/school/assertion')),
      page.locator('.card', { hasText: 'Daan Bakker' }).locator('button', { hasText: 'Open Taalkanjer' }).click(),
    ]);
    expect(res.status()).toBe(400);
    expectSecurityHeaders(res);
    expect(await page.textContent('h1')).toBe('Openen via school kan niet');
    expect(await page.textContent('code')).toBe('launch_not_supported');
    await shot(page, '10-error-launch-not-supported');
  });

  it('logout ends the session: the next login goes to the (remembered) school again', async () => {
    await page.goto(demo.urls.home);
    await page.click('#logout');
    // The gateway asks first: a link from another site ends nothing by itself.
    expect(await page.textContent('h1')).toBe('Uitloggen?');
    await shot(page, '11a-confirm-logout');
    const [loggedOut] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/logout') && r.request().method() === 'POST'),
      page.click('#confirm'),
    ]);
    expect(loggedOut.status()).toBe(200);
    await page.waitForLoadState();
    expect(await page.textContent('h1')).toBe('Je bent uitgelogd');
    await shot(page, '11b-logged-out');
    await page.goto(demo.urls.taalkanjer);
    await page.click('#login');
    await page.waitForURL(/\/regenboog\/login\?request=/);
    await shot(page, '12-school-login-after-logout');
  });
});

describe('a school that logs in at its own OpenID provider, beside the assertion schools', () => {
  let context: BrowserContext;
  let page: Page;
  let rekenSub: unknown;

  keepEvidenceOfFailure(() => page);
  beforeAll(async () => {
    context = await browser.newContext({ locale: 'nl-NL' });
    page = await context.newPage();
  });
  afterAll(async () => {
    await context?.close();
  });

  it('publisher A: picker, the school\'s own provider, and A gets a pseudonym and roster data, no name', async () => {
    await page.goto(demo.urls.rekenmeester);
    await page.click('#login');
    await page.waitForURL(/\/school\/select\?login=/);
    await searchPicker(page, 'zonnebloem');
    await page.click('text=Kindcentrum De Zonnebloem');
    // The school's own OpenID provider, with PKCE and the gateway's callback.
    await page.waitForURL(`${demo.upstreamIssuer}/interaction/**`);
    await shot(page, '20-upstream-provider-login');
    await page.click('text=Inloggen als Fleur Smit');
    await page.waitForURL(`${demo.urls.rekenmeester}/callback**`);
    await shot(page, '21-upstream-publisher-a');
    rekenSub = await claim(page, 'sub');
    expect(rekenSub).toMatch(/^[a-z2-7]{32}$/);
    expect(await claim(page, 'school')).toBe('99ZB');
    // The grade comes from the roster the admin API imported, not from the provider.
    expect(await claim(page, 'grade')).toBe(6);
    expect(await claim(page, 'given_name')).toBeUndefined();
  });

  it('publisher B: the session, no second visit to the provider, another pseudonym and the licensed first name', async () => {
    const sub = await loginAtBFromSession(page, demo.upstreamIssuer, '22-upstream-publisher-b');
    expect(sub).not.toBe(rekenSub);
    expect(await claim(page, 'school')).toBe('99ZB');
    expect(await claim(page, 'given_name')).toBe('Fleur');
    expect(await claim(page, 'role')).toBe('student');
  });

  it('a person the school\'s roster does not hold: the not_on_roster page, nothing for the publisher', async () => {
    const guest = await browser.newContext({ locale: 'nl-NL' });
    try {
      const guestPage = await guest.newPage();
      await guestPage.goto(demo.urls.taalkanjer);
      await guestPage.click('#login');
      await guestPage.waitForURL(/\/school\/select/);
      await guestPage.click('text=Kindcentrum De Zonnebloem');
      await guestPage.waitForURL(`${demo.upstreamIssuer}/interaction/**`);
      const [res] = await Promise.all([
        guestPage.waitForResponse((r) => r.url().includes('/school/oidc/callback')),
        guestPage.click('text=Een gast'),
      ]);
      expect(res.status()).toBe(403);
      expectSecurityHeaders(res);
      await guestPage.waitForLoadState();
      expect(await guestPage.textContent('code')).toBe('not_on_roster');
      expect(guestPage.url().startsWith(demo.urls.gateway)).toBe(true);
      await shot(guestPage, '23-upstream-not-on-roster');
    } finally {
      await guest.close();
    }
  });
});

describe('error pages in a real browser', () => {
  let context: BrowserContext;
  let page: Page;

  keepEvidenceOfFailure(() => page);
  beforeAll(async () => {
    context = await browser.newContext({ locale: 'nl-NL' });
    page = await context.newPage();
  });
  afterAll(async () => {
    await context?.close();
  });

  it('no licence: a pupil of a school without a licence for the product', async () => {
    await page.goto(demo.urls.rekenmeester);
    await page.click('#login');
    await page.waitForURL(/\/school\/select/);
    await page.click('text=OBS Het Kompas');
    await page.waitForURL(/\/kompas\/login/);
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/school/assertion')),
      page.click('text=Inloggen als Mila Jansen'),
    ]);
    expect(res.status()).toBe(403);
    expectSecurityHeaders(res);
    await page.waitForLoadState();
    expect(await page.textContent('h1')).toBe('Geen licentie');
    expect(await page.textContent('code')).toBe('no_licence');
    await shot(page, '13-error-no-licence');
  });

  it('an expired or used login', async () => {
    const res = await page.goto(`${demo.urls.gateway}/school/select?login=${'A'.repeat(43)}`);
    expect(res!.status()).toBe(400);
    expectSecurityHeaders(res);
    expect(await page.textContent('code')).toBe('login_expired');
    await shot(page, '14-error-login-expired');
  });

  it('an unknown product (client) never redirects', async () => {
    const res = await page.goto(`${demo.urls.gateway}/authorize?client_id=onbekend&redirect_uri=https%3A%2F%2Fevil.example%2Fcb&response_type=code&scope=openid`);
    expect(res!.status()).toBe(400);
    expect(page.url().startsWith(demo.urls.gateway)).toBe(true);
    expectSecurityHeaders(res);
    expect(await page.textContent('code')).toBe('unknown_client_or_redirect_uri');
    await shot(page, '15-error-unknown-client');
  });
});

describe('the picker in English', () => {
  it('follows Accept-Language', async () => {
    const context = await browser.newContext({ locale: 'en-US' });
    try {
      const page = await context.newPage();
      await page.goto(demo.urls.rekenmeester);
      await page.click('#login');
      await page.waitForURL(/\/school\/select/);
      expect(await page.getAttribute('html', 'lang')).toBe('en');
      expect(await page.textContent('h1')).toBe('Choose your school');
      await shot(page, '16-picker-english');
    } finally {
      await context.close();
    }
  });
});

describe('the demo SAML school', () => {
  it('logs a pupil in through the SAML identity provider at publisher A, then at publisher B from the session', async () => {
    const context = await browser.newContext({ locale: 'nl-NL' });
    try {
      const page = await context.newPage();
      await page.goto(demo.urls.rekenmeester);
      await page.click('#login');
      await page.waitForURL(/\/school\/select\?login=/);
      await searchPicker(page, 'vuurtoren');
      await page.click('ul.schools a');
      // The gateway's AuthnRequest, HTTP-Redirect binding, at the school's identity provider.
      await page.waitForURL(/\/saml\/sso\?SAMLRequest=/);
      await shot(page, '17-saml-idp-login');
      await page.click('text=Inloggen als Lotte Mulder');
      await page.waitForURL(`${demo.urls.rekenmeester}/callback**`);
      await shot(page, '18-saml-publisher-a');
      const rekenSaml = await claim(page, 'sub');
      expect(rekenSaml).toMatch(/^[a-z2-7]{32}$/);
      expect(await claim(page, 'school')).toBe('99VT');
      expect(await claim(page, 'role')).toBe('student');
      expect(await claim(page, 'given_name')).toBeUndefined();

      await page.goto(demo.urls.taalkanjer);
      await page.click('#login');
      await page.waitForURL(`${demo.urls.taalkanjer}/callback**`);
      await shot(page, '19-saml-publisher-b');
      const taalSaml = await claim(page, 'sub');
      expect(taalSaml).toMatch(/^[a-z2-7]{32}$/);
      expect(taalSaml).not.toBe(rekenSaml);
      expect(await claim(page, 'school')).toBe('99VT');
      expect(await claim(page, 'given_name')).toBe('Lotte');
    } finally {
      await context.close();
    }
  });
});
