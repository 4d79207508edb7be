import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar } from '../helpers/cookie-jar.js';
import { makeWorld, PUPIL, REKEN_CB, TAAL_CB, type World } from '../helpers/fixture.js';
import { startGateway, stateKeys, type TestGateway } from '../helpers/gateway.js';
import { TestPublisher } from '../helpers/publisher.js';

// Login CSRF (RFC 9700 section 4.4.1): a pending login is bound to the browser
// that started it (src/login/pending.ts). An attacker who starts a login in
// their own browser and has the victim's browser post the school's answer (an
// auto-submitting form on any site) gets a page, not a session as the attacker
// in the victim's browser, and not a code.

let world: World;
let gateway: TestGateway;
let reken: TestPublisher;
let taal: TestPublisher;

beforeAll(async () => {
  world = await makeWorld();
  gateway = await startGateway({ seed: world.seed });
  reken = await TestPublisher.create(gateway.url, 'rekenapp', REKEN_CB, { key: world.rekenKey });
  taal = await TestPublisher.create(gateway.url, 'taalapp', TAAL_CB, { secret: world.taalSecret });
});
afterAll(async () => {
  await gateway?.close();
});

/** A browser follows a publisher's login to the school: the signed login request's nonce. */
async function toSchool(jar: CookieJar, publisher = reken) {
  const started = await publisher.startLogin({ school_hint: '12AB' });
  const res = await jar.get(started.url);
  expect(res.status).toBe(303);
  const { payload } = await world.regenboog.readLoginRequest(res.headers.get('location')!, gateway.signing.jwks, gateway.url);
  return { started, nonce: payload.nonce, returnTo: payload.return_to };
}

const codesIn = () => stateKeys(gateway.kv).filter((k) => k.startsWith('code:'));
const sessionsIn = () => stateKeys(gateway.kv).filter((k) => k.startsWith('sess:'));

describe('a pending login is completed only in the browser that started it', () => {
  it("the attacker's school answer posted through the victim's browser: login_other_browser, no session, no code", async () => {
    const attacker = new CookieJar('Mozilla/5.0 AttackerLaptop/1');
    const victim = new CookieJar();
    const step = await toSchool(attacker);
    const attackersAssertion = await world.regenboog.assertion({ ...PUPIL, sub: 'attacker-pupil' }, { nonce: step.nonce, aud: gateway.url });
    const [codes, sessions] = [codesIn().length, sessionsIn().length];

    const res = await victim.post(step.returnTo, { assertion: attackersAssertion });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('<code>login_other_browser</code>');
    expect(res.headers.get('location')).toBeNull();
    expect(victim.cookies.size).toBe(0);
    expect([codesIn().length, sessionsIn().length]).toEqual([codes, sessions]);

    // The victim's next login at any publisher goes to the school: no session was opened as the attacker.
    const next = await victim.get((await taal.startLogin({ school_hint: '12AB' })).url);
    expect(next.status).toBe(303);
    expect(next.headers.get('location')).toMatch(/^https:\/\/idp-12ab\.school\.example\/login\?request=/);
  });

  it("the victim's own pending login does not make the attacker's answer acceptable", async () => {
    const attacker = new CookieJar('Mozilla/5.0 AttackerLaptop/1');
    const victim = new CookieJar();
    await toSchool(victim);
    const step = await toSchool(attacker);
    const res = await victim.post(step.returnTo, { assertion: await world.regenboog.assertion(PUPIL, { nonce: step.nonce, aud: gateway.url }) });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('<code>login_other_browser</code>');
  });

  it('a post without any login cookie (an answer replayed from elsewhere): login_other_browser', async () => {
    const step = await toSchool(new CookieJar());
    const res = await new CookieJar().post(step.returnTo, { assertion: await world.regenboog.assertion(PUPIL, { nonce: step.nonce, aud: gateway.url }) });
    expect(await res.text()).toContain('<code>login_other_browser</code>');
  });

  it('the browser that started the login completes it; two logins in two tabs of it both complete', async () => {
    const jar = new CookieJar();
    const first = await toSchool(jar);
    const second = await toSchool(jar, taal);
    expect(jar.setCookies.filter((c) => c.startsWith('pgw_login=')).map((c) => c.split(';', 1)[0])).toHaveLength(2);
    expect(new Set(jar.setCookies.filter((c) => c.startsWith('pgw_login=')).map((c) => c.split(';', 1)[0])).size).toBe(1);
    for (const [step, publisher] of [[second, taal], [first, reken]] as const) {
      const res = await jar.post(step.returnTo, { assertion: await world.regenboog.assertion(PUPIL, { nonce: step.nonce, aud: gateway.url }) });
      expect(res.status).toBe(303);
      const tokens = await publisher.finishLogin(new URL(res.headers.get('location')!), step.started);
      expect(tokens.claims()?.sub).toMatch(/^[a-z2-7]{32}$/);
    }
  });

  it('a picker link opened in another browser: choosing a school there is login_other_browser', async () => {
    const started = await reken.startLogin();
    const res = await new CookieJar().get(started.url);
    const picker = new URL(res.headers.get('location')!);
    expect(picker.pathname).toBe('/school/select');
    picker.searchParams.set('school', '12AB');
    const elsewhere = await new CookieJar().get(picker);
    expect(elsewhere.status).toBe(400);
    expect(await elsewhere.text()).toContain('<code>login_other_browser</code>');
  });
});

describe('the login cookie', () => {
  it('on http loopback: pgw_login, Secure and SameSite=None (browsers treat loopback as secure), five minutes', async () => {
    const jar = new CookieJar();
    await toSchool(jar);
    expect(jar.setCookies.at(-1)).toMatch(/^pgw_login=[A-Za-z0-9_-]{43}; Max-Age=300; Path=\/; HttpOnly; Secure; SameSite=None$/);
  });

  it('on https: __Host-pgw_login, Secure, SameSite=None so the school\'s cross-site POST carries it', async () => {
    const https = await startGateway({ seed: world.seed, env: { ISSUER: 'https://gateway.school.example' } });
    try {
      const started = await reken.startLogin({ school_hint: '12AB' });
      const url = new URL(started.url);
      const res = await https.app.inject({ method: 'GET', url: `/authorize${url.search}` });
      expect(res.statusCode).toBe(303);
      expect(String(res.headers['set-cookie'])).toMatch(/^__Host-pgw_login=[A-Za-z0-9_-]{43}; Max-Age=300; Path=\/; HttpOnly; Secure; SameSite=None$/);
    } finally {
      await https.close();
    }
  });
});
