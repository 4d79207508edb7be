import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import axe from 'axe-core';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminClient } from '../helpers/admin.js';
import { EMBEDDED_ENV } from '../helpers/env.js';
import { freePort } from '../helpers/net.js';

// A publisher's first integration, in a real browser: `npm run demo` as a
// process, its printed admin API URL and operator token, a new client
// registered through that API, and a login to it (the openid-client example
// as the relying party). On the way, the gateway's pages name the product
// and its publisher, and axe-core finds no accessibility violation on any
// page of the gateway or the demo.

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = join(process.cwd(), 'test-artifacts', 'screenshots');

let dir: string;
let demoProcess: ChildProcess;
let appProcess: ChildProcess | undefined;
let browser: Browser;
const printed = { home: '', gateway: '', admin: '', token: '', school: '', rekenmeester: '', taalkanjer: '' };

/** A first port with the four after it free too (the demo takes five). */
async function sixFreePorts(): Promise<number> {
  const free = (port: number) => new Promise<boolean>((resolve) => {
    const probe = createServer().once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
  for (;;) {
    const first = await freePort();
    if (first > 65529) continue;
    let all = true;
    for (let i = 1; i < 6 && all; i++) all = await free(first + i);
    if (all) return first;
  }
}

/** The demo as a newcomer starts it; resolves with what it printed once ready. */
function startDemoProcess(env: Record<string, string>): Promise<void> {
  demoProcess = spawn(process.execPath, ['--import', 'tsx', 'demo/run.ts'], { env: { ...process.env, ...EMBEDDED_ENV, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    demoProcess.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (!out.includes('Stop with Ctrl+C')) return;
      const line = (label: RegExp) => label.exec(out)?.[1] ?? '';
      Object.assign(printed, {
        home: line(/Open (\S+) in your browser/),
        gateway: line(/gateway \(OpenID provider\)\s+(\S+)/),
        admin: line(/admin API\s+(\S+)/),
        token: line(/operator token[^\n]*\n\s+(\S+)/),
        school: line(/demo school logins\s+(\S+?)\/regenboog/),
        rekenmeester: line(/publisher Rekenmeester\s+(\S+)/),
        taalkanjer: line(/publisher Taalkanjer\s+(\S+)/),
      });
      resolve();
    });
    demoProcess.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    demoProcess.once('exit', (code) => reject(new Error(`the demo exited (${code}):\n${out}`)));
  });
}

function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pgw-first-'));
  await startDemoProcess({ DEMO_PORT: String(await sixFreePorts()), DATA_DIR: join(dir, 'data') });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 90_000);
afterAll(async () => {
  await browser?.close();
  await stop(appProcess);
  await stop(demoProcess);
  await rm(dir, { recursive: true, force: true });
});

/** axe-core on the page as it is: no violation of any rule it runs by default (WCAG 2.x A and AA, best practices). */
async function expectAccessible(page: Page, name: string): Promise<void> {
  // Evaluated through the browser's protocol, which the gateway's CSP (default-src 'none') does not govern.
  await page.evaluate(axe.source);
  const result = await page.evaluate<axe.AxeResults>('axe.run(document)');
  const found = result.violations.map((v) => `${name}: ${v.id} (${v.impact}) at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  expect(found).toEqual([]);
  await page.screenshot({ path: join(SHOTS, `first-${name}.png`), fullPage: true });
}

/** Every request the browser made that failed or answered 404 (a missing icon, say). */
function collectMissing(page: Page): string[] {
  const missing: string[] = [];
  page.on('response', (r) => void (r.status() === 404 && missing.push(r.url())));
  page.on('requestfailed', (r) => void missing.push(`${r.url()} (${r.failure()?.errorText})`));
  return missing;
}

describe('a publisher\'s first integration against the demo', () => {
  let context: BrowserContext;
  let page: Page;
  let missing: string[];
  let appPort: number;

  beforeAll(async () => {
    context = await browser.newContext({ locale: 'nl-NL' });
    page = await context.newPage();
    missing = collectMissing(page);
  });
  afterAll(async () => {
    await context?.close();
  });

  it('the demo printed its admin API and an operator token that the admin API takes', () => {
    expect(printed.admin).toBe(`${printed.gateway}/admin/v1`);
    expect(printed.token).toMatch(/^demo-[A-Za-z0-9_-]{43}$/);
  });

  it('registers a new client through the admin API with the printed token and logs in to it', async () => {
    const operator = adminClient(printed.gateway, printed.token);
    expect((await operator.post('/suppliers', { id: 'leerpad', name: 'Uitgeverij Leerpad', keyVersion: 1 })).status).toBe(201);
    appPort = await freePort();
    const created = await operator.post('/clients', {
      clientId: 'wereldwijs', supplier: 'leerpad', name: 'Wereldwijs', redirectUris: [`http://localhost:${appPort}/callback`],
      claims: ['school', 'role', 'grade'], clientSecret: 'generate',
    });
    expect(created.status).toBe(201);
    // De Regenboog licenses it; Het Kompas does not.
    expect((await operator.post('/schools/99DR/licences', { client: 'wereldwijs', claims: ['school', 'role', 'grade'] })).status).toBe(201);
    appProcess = spawn(process.execPath, ['--import', 'tsx', 'examples/openid-client/app.ts'], {
      env: { ...process.env, ISSUER: printed.gateway, CLIENT_ID: 'wereldwijs', CLIENT_SECRET: (created.body as { clientSecret: string }).clientSecret, PORT: String(appPort) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve) => appProcess!.stdout!.on('data', (c: Buffer) => void (c.toString().includes('listening on') && resolve())));

    await page.goto(`http://localhost:${appPort}/login`);
    await page.waitForURL(/\/school\/select\?login=/);
    // The picker names the product, its publisher and the service.
    expect(await page.textContent('.product')).toBe('Je logt in bij Wereldwijs van Uitgeverij Leerpad.');
    expect(await page.textContent('.service-name')).toBe('Inlogdienst');
    await expectAccessible(page, 'picker');
    await page.click('text=Basisschool De Regenboog');
    await page.waitForURL(/\/regenboog\/login\?request=/);
    await expectAccessible(page, 'school-login');
    await page.click('text=Inloggen als Sanne de Vries');
    await page.waitForURL(`http://localhost:${appPort}/callback**`);
    const claims = JSON.parse((await page.textContent('body'))!) as Record<string, unknown>;
    expect(claims).toMatchObject({ iss: printed.gateway, aud: 'wereldwijs', school: '99DR', role: 'student', grade: 5 });
    expect(claims.sub).toMatch(/^[a-z2-7]{32}$/);
  });

  it('a school without a licence: the no-licence page names the product and its publisher', async () => {
    const jar = await browser.newContext({ locale: 'nl-NL' });
    try {
      const fresh = await jar.newPage();
      const freshMissing = collectMissing(fresh);
      await fresh.goto(`http://localhost:${appPort}/login`);
      await fresh.waitForURL(/\/school\/select/);
      await fresh.click('text=OBS Het Kompas');
      await fresh.waitForURL(/\/kompas\/login/);
      const [res] = await Promise.all([fresh.waitForResponse((r) => r.url().endsWith('/school/assertion')), fresh.click('text=Inloggen als Mila Jansen')]);
      expect(res.status()).toBe(403);
      await fresh.waitForLoadState();
      expect(await fresh.textContent('h1')).toBe('Geen licentie');
      expect(await fresh.textContent('header .product')).toBe('Je logt in bij Wereldwijs van Uitgeverij Leerpad.');
      expect(await fresh.textContent('section[lang="en"]')).toContain('You are logging in to Wereldwijs by Uitgeverij Leerpad.');
      await expectAccessible(fresh, 'no-licence');
      expect(freshMissing).toEqual([]);
    } finally {
      await jar.close();
    }
  });

  it('every demo page and the gateway\'s other pages have no accessibility violation, and no request of theirs is missing', async () => {
    const visit = async (url: string, name: string) => {
      await page.goto(url);
      await expectAccessible(page, name);
    };
    await visit(printed.home, 'demo-home');
    await visit(printed.rekenmeester, 'publisher-rekenmeester');
    await visit(printed.taalkanjer, 'publisher-taalkanjer');
    await visit(`${printed.school}/regenboog/portal`, 'school-portal');
    // A login from the session to Taalkanjer: the publisher's logged-in page.
    await page.goto(printed.taalkanjer);
    await page.click('#login');
    await page.waitForURL(`${printed.taalkanjer}/callback**`);
    await expectAccessible(page, 'publisher-logged-in');
    await page.goto(printed.rekenmeester);
    await page.click('#login');
    await page.waitForURL(`${printed.rekenmeester}/callback**`);
    // Rekenmeester receives the role, and says who logged in.
    expect(await page.textContent('#role')).toContain('Ingelogd als een leerling');
    await visit(printed.home, 'demo-home-compared');
    expect(await page.textContent('#verdict')).toContain('dezelfde leerling');
    // A publisher's error page: the gateway's error, its description and a way back.
    const challenge = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
    await page.goto(`${printed.gateway}/authorize?client_id=taalkanjer&redirect_uri=${encodeURIComponent(`${printed.taalkanjer}/callback`)}&response_type=code&scope=openid&prompt=none&max_age=0&state=s&code_challenge=${challenge}&code_challenge_method=S256`);
    await page.waitForURL(`${printed.taalkanjer}/callback**`);
    expect(await page.textContent('#error')).toBe('login_required');
    expect(await page.textContent('#error-description')).not.toBe('');
    expect(await page.getAttribute('#again', 'href')).toBe('/login');
    await expectAccessible(page, 'publisher-error');
    // The gateway's own pages besides the picker and no-licence.
    await visit(`${printed.gateway}/school/select?login=${'A'.repeat(43)}`, 'gateway-login-expired');
    await visit(`${printed.gateway}/authorize?client_id=onbekend&redirect_uri=https%3A%2F%2Fevil.example%2Fcb&response_type=code&scope=openid`, 'gateway-unknown-client');
    await visit(`${printed.gateway}/logout`, 'gateway-logout-confirm');
    await page.click('#confirm');
    await page.waitForLoadState();
    expect(await page.textContent('h1')).toBe('Je bent uitgelogd');
    await expectAccessible(page, 'gateway-logged-out');
    // A teacher does not look like a pupil: at Rekenmeester, and in the home page's verdict.
    await page.goto(printed.rekenmeester);
    await page.click('#login');
    await page.waitForURL(/\/regenboog\/login\?request=/);
    await page.click('text=Inloggen als Anouk Visser');
    await page.waitForURL(`${printed.rekenmeester}/callback**`);
    expect(await page.textContent('#role')).toContain('Ingelogd als een leerkracht');
    await expectAccessible(page, 'publisher-teacher');
    await page.goto(printed.taalkanjer);
    await page.click('#login');
    await page.waitForURL(`${printed.taalkanjer}/callback**`);
    await page.goto(printed.home);
    expect(await page.textContent('#verdict')).toContain('dezelfde leerkracht');
    expect(await page.textContent('#verdict')).not.toContain('leerling');
    expect(missing).toEqual([]);
  }, 120_000);
});
