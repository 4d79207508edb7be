import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { MemoryKv } from '../../src/store/memory-kv.js';
import { TestClock } from '../helpers/clock.js';
import { CookieJar } from '../helpers/cookie-jar.js';
import { makeWorld, PUPIL, REKEN_CB, REKEN_LAUNCH, TAAL_CB, type World } from '../helpers/fixture.js';
import { startGateway, stateKeys, type TestGateway } from '../helpers/gateway.js';
import { TestPublisher } from '../helpers/publisher.js';
import type { TestSchool } from '../helpers/test-school.js';

// The SSO session : one school login, then every licensed product
// opens from the same browser until the session ends. Real HTTP, the real
// app, a cookie jar standing in for the browser, openid-client as publishers.

const IDLE_S = 600;
const MAX_S = 1800;

let world: World;
let clock: TestClock;
let gateway: TestGateway;
let reken: TestPublisher;
let taal: TestPublisher;

beforeAll(async () => {
  world = await makeWorld();
  clock = new TestClock();
  gateway = await startGateway({ seed: world.seed, clock, env: { SESSION_IDLE_SECONDS: String(IDLE_S), SESSION_MAX_SECONDS: String(MAX_S) } });
  reken = await TestPublisher.create(gateway.url, 'rekenapp', REKEN_CB, { key: world.rekenKey });
  taal = await TestPublisher.create(gateway.url, 'taalapp', TAAL_CB, { secret: world.taalSecret });
});
afterAll(async () => {
  await gateway?.close();
});
// Every test starts at the real time: publishers (openid-client) check token times against it.
afterEach(() => clock.reset());

type Step =
  | { kind: 'code'; location: URL }
  | { kind: 'school'; location: URL }
  | { kind: 'error'; location: URL; error: string }
  | { kind: 'other'; res: Response; body: string };

/** One /authorize from the browser: where did it send the browser? */
async function authorizeFrom(jar: CookieJar, publisher: TestPublisher, extra: Record<string, string> = {}) {
  const started = await publisher.startLogin(extra);
  const res = await jar.get(started.url);
  const raw = res.headers.get('location');
  let step: Step;
  if (res.status !== 303 || raw === null) step = { kind: 'other', res, body: await res.text() };
  else {
    const location = new URL(raw);
    if (raw.startsWith(publisher.redirectUri) && location.searchParams.has('code')) step = { kind: 'code', location };
    else if (raw.startsWith(publisher.redirectUri)) step = { kind: 'error', location, error: location.searchParams.get('error')! };
    else step = { kind: 'school', location };
  }
  return { started, step };
}

/** A complete login through the school, in this browser. */
async function schoolLogin(jar: CookieJar, publisher: TestPublisher, school: TestSchool = world.regenboog, extra: Record<string, string> = { school_hint: school.id }) {
  const { started, step } = await authorizeFrom(jar, publisher, extra);
  expect(step.kind).toBe('school');
  const { payload } = await school.readLoginRequest((step as { location: URL }).location.toString(), gateway.signing.jwks, gateway.url);
  const posted = await jar.post(payload.return_to, { assertion: await school.assertion(PUPIL, { nonce: payload.nonce, aud: gateway.url, now: clock.now() }) });
  expect(posted.status).toBe(303);
  const tokens = await publisher.finishLogin(new URL(posted.headers.get('location')!), started);
  return tokens.claims()!;
}

/** An /authorize that the session must answer with a code; the code is redeemed when the clock is real. */
async function sessionLogin(jar: CookieJar, publisher: TestPublisher, extra: Record<string, string> = {}) {
  const { started, step } = await authorizeFrom(jar, publisher, extra);
  expect(step.kind).toBe('code');
  return { started, location: (step as { location: URL }).location };
}

const kvValues = () => {
  const kv = gateway.kv as MemoryKv;
  return Promise.all(kv.keys().map(async (k) => `${k}=${(await kv.get(k)) ?? ''}`));
};

describe('one school login, then every licensed product', () => {
  it('a second product of another supplier opens from the session: no school, its own pseudonym, the first login auth_time', async () => {
    const jar = new CookieJar();
    const first = await schoolLogin(jar, reken);
    const keysBefore = (gateway.kv as MemoryKv).keys();
    const { started, location } = await sessionLogin(jar, taal);
    // Nothing was parked for a school: no pending login, no picker.
    expect((gateway.kv as MemoryKv).keys().filter((k) => !keysBefore.includes(k) && /^(txn|pick):/.test(k))).toEqual([]);
    const second = (await taal.finishLogin(location, started)).claims()!;
    expect(second.sub).not.toBe(first.sub);
    expect(second.auth_time).toBe(first.auth_time);
    expect(second.given_name).toBe(PUPIL.given_name);
    expect(location.searchParams.get('iss')).toBe(gateway.url);
  });

  it('the same product again gives the same pseudonym without the school', async () => {
    const jar = new CookieJar();
    const first = await schoolLogin(jar, reken);
    const { started, location } = await sessionLogin(jar, reken);
    expect((await reken.finishLogin(location, started)).claims()!.sub).toBe(first.sub);
  });

  it('the session cookie is HttpOnly, SameSite=Lax, Path=/, and on plain-http loopback neither Secure nor __Host-', async () => {
    const jar = new CookieJar();
    await schoolLogin(jar, reken);
    const line = jar.setCookies.find((l) => l.startsWith('pgw_session='))!;
    expect(line).toMatch(/; HttpOnly/i);
    expect(line).toMatch(/; SameSite=Lax/i);
    expect(line).toMatch(/; Path=\//i);
    expect(line).not.toMatch(/; Secure/i);
    expect(line).not.toMatch(/Domain=/i);
    expect(line).toMatch(new RegExp(`; Max-Age=${MAX_S}`, 'i'));
  });

  it('a session for one school does not answer for another (school_hint): that school is asked', async () => {
    const jar = new CookieJar();
    await schoolLogin(jar, taal);
    const { step } = await authorizeFrom(jar, taal, { school_hint: world.klimop.id });
    expect(step.kind).toBe('school');
    expect((step as { location: URL }).location.toString()).toContain(world.klimop.loginUrl);
  });

  it('no licence for the next product is a 403 page, nothing for the publisher, and the session stays', async () => {
    const jar = new CookieJar();
    await schoolLogin(jar, taal, world.klimop);
    const { step } = await authorizeFrom(jar, reken);
    expect(step.kind).toBe('other');
    const { res, body } = step as { res: Response; body: string };
    expect(res.status).toBe(403);
    expect(body).toContain('no_licence');
    await sessionLogin(jar, taal);
  });
});

describe('prompt and max_age (OIDC Core section 3.1.2.1)', () => {
  it('prompt=none without a session: login_required back to the client', async () => {
    const { step } = await authorizeFrom(new CookieJar(), reken, { prompt: 'none', school_hint: '12AB' });
    expect(step).toMatchObject({ kind: 'error', error: 'login_required' });
  });

  it('prompt=none with a session: a code, no UI', async () => {
    const jar = new CookieJar();
    await schoolLogin(jar, reken);
    await sessionLogin(jar, taal, { prompt: 'none' });
  });

  it('prompt=login with a session: the school again', async () => {
    const jar = new CookieJar();
    await schoolLogin(jar, reken);
    expect((await authorizeFrom(jar, reken, { prompt: 'login' })).step.kind).toBe('school');
  });

  it('max_age: older school logins go back to the school; prompt=none then gives login_required', async () => {
    const jar = new CookieJar();
    await schoolLogin(jar, reken);
    await sessionLogin(jar, reken, { max_age: '3600' });
    clock.advance(5_000);
    expect((await authorizeFrom(jar, reken, { max_age: '1' })).step.kind).toBe('school');
    expect((await authorizeFrom(jar, reken, { max_age: '0', prompt: 'none' })).step).toMatchObject({ kind: 'error', error: 'login_required' });
    await sessionLogin(jar, reken, { max_age: '3600' });
  });

  it('an unknown prompt value is invalid_request', async () => {
    expect((await authorizeFrom(new CookieJar(), reken, { prompt: 'dance', school_hint: '12AB' })).step).toMatchObject({ kind: 'error', error: 'invalid_request' });
  });
});

describe('the session ends', () => {
  it('after the idle limit without use', async () => {
    const jar = new CookieJar();
    await schoolLogin(jar, reken);
    clock.advance((IDLE_S - 60) * 1000);
    await sessionLogin(jar, reken); // use renews the idle limit
    clock.advance((IDLE_S - 60) * 1000);
    await sessionLogin(jar, reken);
    clock.advance((IDLE_S + 1) * 1000);
    expect((await authorizeFrom(jar, reken, { school_hint: '12AB' })).step.kind).toBe('school');
  });

  it('at the absolute limit, however often it is used', async () => {
    const jar = new CookieJar();
    await schoolLogin(jar, reken);
    for (let used = 0; used < 3; used++) {
      clock.advance((IDLE_S - 10) * 1000);
      await sessionLogin(jar, reken);
    }
    clock.advance((MAX_S - 3 * (IDLE_S - 10) + 1) * 1000);
    expect((await authorizeFrom(jar, reken, { school_hint: '12AB' })).step.kind).toBe('school');
  });

  it('at logout: the page says so, the cookie is cleared, and the old cookie opens nothing', async () => {
    const jar = new CookieJar();
    await schoolLogin(jar, reken);
    const cookie = jar.cookies.get('pgw_session')!;
    const res = await jar.post(`${gateway.url}/logout`, {}, { origin: gateway.url, 'sec-fetch-site': 'same-origin' });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Je bent uitgelogd');
    expect(jar.cookies.has('pgw_session')).toBe(false);
    const replay = new CookieJar();
    replay.cookies.set('pgw_session', cookie);
    expect((await authorizeFrom(replay, reken, { school_hint: '12AB' })).step.kind).toBe('school');
  });
});

describe('cookies that open nothing: a fresh school login instead', () => {
  it.each([
    ['tampered (one character changed)', (c: string) => `${c.slice(0, -1)}${c.endsWith('A') ? 'B' : 'A'}`],
    ['truncated', (c: string) => c.slice(0, 20)],
    ['made up', () => 'A'.repeat(43)],
    ['not base64url', () => '<script>'.repeat(5)],
  ])('%s', async (_name, change) => {
    const jar = new CookieJar();
    await schoolLogin(jar, reken);
    jar.cookies.set('pgw_session', change(jar.cookies.get('pgw_session')!));
    expect((await authorizeFrom(jar, reken, { school_hint: '12AB' })).step.kind).toBe('school');
  });

  it('a cookie copied into another browser opens nothing there, and ends the session it came from', async () => {
    const jar = new CookieJar();
    await schoolLogin(jar, reken);
    const thief = new CookieJar('Mozilla/5.0 (Windows NT 10.0) OtherBrowser/2');
    thief.cookies.set('pgw_session', jar.cookies.get('pgw_session')!);
    expect((await authorizeFrom(thief, reken, { school_hint: '12AB' })).step.kind).toBe('school');
    expect((await authorizeFrom(jar, reken, { school_hint: '12AB' })).step.kind).toBe('school');
  });
});

describe('what the KV store holds during a session', () => {
  it('no pupil attribute, key or cookie, in any key or value', async () => {
    const jar = new CookieJar();
    await schoolLogin(jar, reken);
    const dump = (await kvValues()).join('\n');
    const cookie = jar.cookies.get('pgw_session')!;
    for (const secret of [PUPIL.sub, PUPIL.given_name, PUPIL.family_name, PUPIL.birthdate, 'Groep 8A', '"8a"', cookie]) {
      expect(dump).not.toContain(secret);
    }
    expect(dump).toMatch(/^sess:/m);
  });
});

describe('school-started launch (target instead of nonce)', () => {
  async function launch(jar: CookieJar, target: string, school: TestSchool = world.regenboog) {
    // The portal posts to the assertion endpoint without any gateway-started login.
    const assertion = await school.assertion(PUPIL, { aud: gateway.url, claims: { target }, now: clock.now() });
    return jar.post(`${gateway.url}/school/assertion`, { assertion });
  }

  it("opens a session and sends the browser to the product's initiateLoginUri with iss; its /authorize then completes from the session", async () => {
    const jar = new CookieJar();
    const res = await launch(jar, 'rekenapp');
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe('https://rekenapp.example/launch');
    expect(location.searchParams.get('from')).toBe('gateway');
    expect(location.searchParams.get('iss')).toBe(gateway.url);
    expect(location.searchParams.has('code')).toBe(false);
    expect(REKEN_LAUNCH.startsWith('https://rekenapp.example/launch')).toBe(true);
    const { started, location: callback } = await sessionLogin(jar, reken);
    const claims = (await reken.finishLogin(callback, started)).claims()!;
    expect(claims.school).toBe('12AB');
  });

  it.each([
    ['a product without initiateLoginUri', 'leesapp', 400, 'launch_not_supported'],
    ['an unknown product', 'nietbestaand', 404, 'unknown_product'],
  ])('%s: a page, and no session', async (_name, target, status, code) => {
    const jar = new CookieJar();
    const res = await launch(jar, target);
    expect(res.status).toBe(status);
    expect(await res.text()).toContain(code);
    expect(jar.cookies.has('pgw_session')).toBe(false);
  });

  it('a product the school has no licence for: the 403 page, and no session', async () => {
    const jar = new CookieJar();
    const res = await launch(jar, 'rekenapp', world.klimop);
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('no_licence');
    expect(jar.cookies.has('pgw_session')).toBe(false);
  });

  it('a school that has not turned launch on (allowLaunch, off by default): the 403 page launch_not_allowed, and no session', async () => {
    const seed = structuredClone(world.seed) as { schools: Record<string, unknown>[] };
    delete seed.schools[0]!.allowLaunch;
    const off = await startGateway({ seed });
    try {
      const jar = new CookieJar();
      const assertion = await world.regenboog.assertion(PUPIL, { aud: off.url, claims: { target: 'rekenapp' } });
      const res = await jar.post(`${off.url}/school/assertion`, { assertion });
      expect(res.status).toBe(403);
      expect(await res.text()).toContain('<code>launch_not_allowed</code>');
      expect(jar.cookies.size).toBe(0);
      expect(stateKeys(off.kv).filter((k) => k.startsWith('sess:'))).toEqual([]);
    } finally {
      await off.close();
    }
  });
});

describe('on https, the cookies are __Host- and Secure', () => {
  it('as the assertion response sets them', async () => {
    const https = await startGateway({ seed: world.seed, env: { ISSUER: 'https://gateway.school.example' } });
    try {
      const assertion = await world.regenboog.assertion(PUPIL, { aud: 'https://gateway.school.example', claims: { target: 'rekenapp' } });
      const res = await https.app.inject({ method: 'POST', url: '/school/assertion', payload: new URLSearchParams({ assertion }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(res.statusCode, res.body.match(/<code>(.*)<\/code>/)?.[1]).toBe(303);
      const line = String(res.headers['set-cookie']);
      expect(line).toMatch(/^__Host-pgw_session=[A-Za-z0-9_-]{43}; Max-Age=\d+; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
    } finally {
      await https.close();
    }
  });
});

describe('logout only from the gateway\'s own page (no cross-site logout)', () => {
  /** A browser with a session, and a check that it still has it. */
  async function loggedIn() {
    const jar = new CookieJar();
    await schoolLogin(jar, reken);
    return { jar, stillLoggedIn: async () => (await authorizeFrom(jar, reken, { school_hint: '12AB' })).step.kind === 'code' };
  }

  it('a top-level GET from another site shows a confirmation page and ends nothing', async () => {
    const { jar, stillLoggedIn } = await loggedIn();
    const res = await jar.get(`${gateway.url}/logout`, { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', referer: 'https://evil.example/' });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const html = await res.text();
    expect(html).not.toContain('Je bent uitgelogd');
    expect(jar.setCookies.filter((c) => c.startsWith('pgw_session=;') || /pgw_session=[^;]*;.*max-age=0/i.test(c))).toEqual([]);
    expect(await stillLoggedIn()).toBe(true);
    // Dutch first, English second; both buttons post to the gateway's own /logout.
    expect(html.indexOf('Uitloggen?')).toBeLessThan(html.indexOf('lang="en"'));
    expect(html).toContain('Log out?');
    // Under the gateway's no-referrer policy a browser would send Origin: null on the page's own POST.
    expect(html).toContain('<meta name="referrer" content="same-origin">');
    expect(html.match(/<form method="post" action="([^"]+)">/g)).toEqual([
      `<form method="post" action="${gateway.url}/logout">`,
      `<form method="post" action="${gateway.url}/logout">`,
    ]);
  });

  it.each([
    ['another origin', { origin: 'https://evil.example' }],
    ['a sibling origin on the same site', { origin: 'http://127.0.0.1:1' }],
    ['an opaque origin (null)', { origin: 'null' }],
    ['Sec-Fetch-Site cross-site without Origin', { 'sec-fetch-site': 'cross-site' }],
    ['Sec-Fetch-Site same-site', { 'sec-fetch-site': 'same-site' }],
  ])('a POST from %s -> 403 with the confirmation page, session intact', async (_name, headers) => {
    const { jar, stillLoggedIn } = await loggedIn();
    const res = await jar.post(`${gateway.url}/logout`, {}, headers);
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('Uitloggen?');
    expect(await stillLoggedIn()).toBe(true);
  });

  it('the confirmation page\'s own POST logs out', async () => {
    const { jar, stillLoggedIn } = await loggedIn();
    const confirm = await (await jar.get(`${gateway.url}/logout`)).text();
    const action = /<form method="post" action="([^"]+)">/.exec(confirm)![1]!;
    const res = await jar.post(action, {}, { origin: gateway.url, 'sec-fetch-site': 'same-origin' });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Je bent uitgelogd');
    expect(await stillLoggedIn()).toBe(false);
  });
});
