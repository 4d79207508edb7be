import { randomBytes } from 'node:crypto';
import { generateKeyPair } from 'jose';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Kv } from '../../src/store/kv.js';
import { resignIdToken, startUpstreamIdp, type UpstreamIdp } from '../../support/upstream-idp.js';
import { adminClient, type AdminClient } from '../helpers/admin.js';
import { fullLogin } from '../helpers/browser.js';
import type { TestDb } from '../helpers/db.js';
import { makeWorld, REKEN_CB, TAAL_CB, type World } from '../helpers/fixture.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { freePort } from '../helpers/net.js';
import { TestPublisher } from '../helpers/publisher.js';
import { TestSchool } from '../helpers/test-school.js';
import { answerCallback, toCallback, upstreamLogin } from '../helpers/upstream-login.js';

// Schools that log in with the accounts they already have (docs/upstream-oidc.md):
// a real OpenID provider (oidc-provider) on loopback is the schools' upstream,
// openid-client is the publisher, the roster comes in through the admin API.
// Run once per KV adapter.

const BOOTSTRAP = 'bootstrap-token-0123456789-abcdefghijklmnopqrstuvwxyz';
const REQUIRED = '56EF';
const OPTIONAL = '78GH';
const NO_ROSTER = '90IJ';
const DOWN = '12DN';
const NEVER_UP = '34KL';
const TIMEOUT_MS = 2_000;

const SANNE = {
  studentKey: 'LL-5601', logins: ['oid-sanne'], role: 'student', given_name: 'Sanne', tussenvoegsel: 'van', family_name: 'Dijk',
  birthdate: '2014-03-02', gender: 'female', groups: [{ key: 'g8a', name: 'Groep 8A', grade: 8 }], grade: 8,
};
const DAAN = { studentKey: 'LL-7801', logins: ['Daan@Kompas.example'], role: 'student', given_name: 'Daan', family_name: 'Bakker', groups: [{ key: 'g5', name: 'Groep 5', grade: 5 }] };

const ACCOUNTS = [
  { id: 'u-sanne', claims: { oid: 'oid-sanne', tid: 'tenant-1', email: 'sanne@regenboog.example', given_name: 'Upstream-Sanne', family_name: 'Upstream' } },
  { id: 'u-stranger', claims: { oid: 'oid-stranger', tid: 'tenant-1', email: 'stranger@regenboog.example' } },
  { id: 'u-other-tenant', claims: { oid: 'oid-sanne', tid: 'tenant-2', email: 'sanne@elders.example' } },
  { id: 'u-daan', claims: { oid: 'oid-daan', tid: 'tenant-1', email: 'daan@kompas.example', given_name: 'Upstream-Daan' } },
  { id: 'u-guest', claims: { email: 'guest@kompas.example', given_name: 'Gast' } },
];

export function defineUpstreamOidcSuite(makeDb: () => Promise<TestDb>, makeKv: () => Promise<{ kv: Kv; close(): Promise<void> }>) {
  const masterKey = randomBytes(32);
  let world: World;
  let store: TestDb;
  let kvStore: { kv: Kv; close(): Promise<void> };
  let upstream: UpstreamIdp;
  let down: UpstreamIdp;
  let gateway: TestGateway;
  let reken: TestPublisher;
  let taal: TestPublisher;
  let school: AdminClient;
  const seenCodes: string[] = [];

  beforeAll(async () => {
    world = await makeWorld();
    store = await makeDb();
    kvStore = await makeKv();
    const port = await freePort();
    const gatewayUrl = `http://127.0.0.1:${port}`;
    const redirect_uris = [`${gatewayUrl}/school/oidc/callback`];
    const base = { redirect_uris, grant_types: ['authorization_code'], response_types: ['code'], id_token_signed_response_alg: 'ES256' };
    upstream = await startUpstreamIdp({
      accounts: ACCOUNTS,
      clients: [
        { ...base, client_id: 'gw-56ef', client_secret: 'secret-56ef-0123456789abcdef', token_endpoint_auth_method: 'client_secret_basic' },
        // private_key_jwt: the provider reads the gateway's key from its published JWKS.
        { ...base, client_id: 'gw-78gh', jwks_uri: `${gatewayUrl}/school/oidc/jwks.json`, token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'ES256' },
        { ...base, client_id: 'gw-90ij', client_secret: 'secret-90ij-0123456789abcdef', token_endpoint_auth_method: 'client_secret_post' },
      ],
    });
    down = await startUpstreamIdp({ accounts: ACCOUNTS, clients: [{ ...base, client_id: 'gw-12dn', client_secret: 'secret-12dn-0123456789abcdef' }] });
    const oidc = (issuer: string, extra: object) => ({ kind: 'oidc', issuer, scopes: ['openid', 'email', 'profile'], ...extra });
    const seed = {
      ...world.seed,
      schools: [
        ...world.seed.schools,
        { id: REQUIRED, name: 'De Regenboog (Entra ID)', roster: 'required', login: oidc(upstream.issuer, { clientId: 'gw-56ef', clientSecret: 'secret-56ef-0123456789abcdef', identityClaim: 'oid', require: { tid: 'tenant-1' } }) },
        { id: OPTIONAL, name: 'Het Kompas (Google)', roster: 'optional', login: oidc(upstream.issuer, { clientId: 'gw-78gh', clientAuth: 'private_key_jwt', identityClaim: 'email' }) },
        { id: NO_ROSTER, name: 'De Klimop', roster: 'none', login: oidc(upstream.issuer, { clientId: 'gw-90ij', clientSecret: 'secret-90ij-0123456789abcdef', clientAuth: 'client_secret_post', identityClaim: 'sub' }) },
        { id: DOWN, name: 'De Uitval', roster: 'none', login: oidc(down.issuer, { clientId: 'gw-12dn', clientSecret: 'secret-12dn-0123456789abcdef', identityClaim: 'sub' }) },
        { id: NEVER_UP, name: 'Nooit Bereikbaar', roster: 'none', login: oidc(`http://127.0.0.1:${await freePort()}`, { clientId: 'gw-34kl', clientSecret: 'secret-34kl-0123456789abcdef', identityClaim: 'sub' }) },
      ],
      licences: [
        ...world.seed.licences,
        { school: REQUIRED, client: 'rekenapp', claims: ['school', 'grade', 'groups', 'group_names'] },
        { school: REQUIRED, client: 'taalapp', claims: ['school', 'role', 'given_name', 'family_name'] },
        ...[OPTIONAL, NO_ROSTER, DOWN, NEVER_UP].map((s) => ({ school: s, client: 'taalapp', claims: ['school', 'role', 'given_name'] })),
      ],
    };
    gateway = await startGateway({
      seed, db: store.db, kv: kvStore.kv, masterKey, port,
      env: { OPERATOR_BOOTSTRAP_TOKEN: BOOTSTRAP, RATE_LIMIT_ADMIN_PER_MIN: '100000', UPSTREAM_OIDC_TIMEOUT_MS: String(TIMEOUT_MS) },
    });
    reken = await TestPublisher.create(gateway.url, 'rekenapp', REKEN_CB, { key: world.rekenKey });
    taal = await TestPublisher.create(gateway.url, 'taalapp', TAAL_CB, { secret: world.taalSecret });
    const operator = adminClient(gateway.url, BOOTSTRAP);
    const token = (await operator.post(`/schools/${REQUIRED}/tokens`, { label: 'LAS' })).body as { token: string };
    school = adminClient(gateway.url, token.token);
    // The roster through the admin API, with the school's own token, as its administration system sends it.
    expect((await school.put(`/schools/${REQUIRED}/roster`, { people: [SANNE] })).status).toBe(200);
    expect((await operator.put(`/schools/${OPTIONAL}/roster`, { people: [DAAN] })).status).toBe(200);
  }, 60_000);
  afterAll(async () => {
    await gateway?.close();
    await upstream?.close();
    await down?.close();
    await kvStore?.close();
    await store?.cleanup();
  });

  /** Every release the ledger holds (repeats flushed first). */
  async function released(): Promise<number> {
    await gateway.app.privacy!.ledger.flushCounts();
    const [row] = await store.db.query<{ n: string | number }>('SELECT coalesce(sum(count), 0) AS n FROM disclosures');
    return Number(row!.n);
  }
  const unmatched = async () => ((await school.get(`/schools/${REQUIRED}/roster`)).body as { unmatchedLogins: { total: number } }).unmatchedLogins.total;

  /** The refusal page: status, code in the body, no redirect to the publisher, no session, nothing released. */
  async function expectRefusal(res: Response, status: number, code: string, before: number): Promise<string> {
    const body = await res.text();
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(body).toContain(`<code>${code}</code>`);
    expect(res.headers.get('location')).toBeNull();
    expect(res.headers.getSetCookie().some((c) => /pgw_session=/.test(c))).toBe(false);
    expect(await released()).toBe(before);
    return body;
  }

  const code = (url: URL) => {
    const value = url.searchParams.get('code');
    if (value) seenCodes.push(value);
    return url;
  };

  it('logs a rostered pupil in through the upstream provider: claims from the roster, exactly the licence', async () => {
    const before = await released();
    const { claims, authorize, callback } = await upstreamLogin(reken, upstream, REQUIRED, 'u-sanne');
    code(callback);
    // PKCE S256, state and nonce towards the upstream (docs/upstream-oidc.md).
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(authorize.searchParams.get('nonce')).toBeTruthy();
    expect(authorize.searchParams.get('state')).toBeTruthy();
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${gateway.url}/school/oidc/callback`);
    const names = Object.keys(claims).filter((k) => !['iss', 'aud', 'sub', 'iat', 'exp', 'nonce', 'auth_time'].includes(k)).sort();
    expect(names).toEqual(['grade', 'group_names', 'groups', 'school']);
    expect(claims).toMatchObject({ school: REQUIRED, grade: 8, group_names: ['Groep 8A'] });
    expect(await released()).toBe(before + 1);

    const named = await upstreamLogin(taal, upstream, REQUIRED, 'u-sanne');
    code(named.callback);
    // The roster's name wins over the upstream's.
    expect(named.claims).toMatchObject({ school: REQUIRED, role: 'student', given_name: 'Sanne', family_name: 'Dijk' });
  });

  it('gives the same sub and group pseudonyms as an assertion for the same pupil key', async () => {
    const viaUpstream = await upstreamLogin(reken, upstream, REQUIRED, 'u-sanne');
    code(viaUpstream.callback);
    // The same school registered with the gateway's own assertion, under the same master key.
    const asAssertion = await TestSchool.create(REQUIRED);
    const other = await startGateway({
      seed: { ...world.seed, schools: [asAssertion.registration()], licences: [{ school: REQUIRED, client: 'rekenapp', claims: ['school', 'grade', 'groups', 'group_names'] }] },
      masterKey,
    });
    try {
      const publisher = await TestPublisher.create(other.url, 'rekenapp', REKEN_CB, { key: world.rekenKey });
      const viaAssertion = await fullLogin(other, asAssertion, publisher, { sub: SANNE.studentKey, groups: SANNE.groups, grade: 8 });
      expect(viaUpstream.claims.sub).toMatch(/^[a-z2-7]{32}$/);
      expect(viaUpstream.claims.sub).toBe(viaAssertion.claims.sub);
      expect(viaUpstream.claims.groups).toEqual(viaAssertion.claims.groups);
    } finally {
      await other.close();
    }
  });

  it('private_key_jwt towards the upstream, roster optional: a rostered pupil by e-mail (any case) gets the roster', async () => {
    const jwks = await (await fetch(`${gateway.url}/school/oidc/jwks.json`)).json() as { keys: { kty: string; d?: string }[] };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]!.d).toBeUndefined();
    const { claims, callback } = await upstreamLogin(taal, upstream, OPTIONAL, 'u-daan');
    code(callback);
    expect(claims).toMatchObject({ school: OPTIONAL, role: 'student', given_name: 'Daan' });
  });

  it('roster optional: a person not on it logs in with the upstream identifier as pupil key and the upstream name', async () => {
    const before = await released();
    const { claims, callback } = await upstreamLogin(taal, upstream, OPTIONAL, 'u-guest');
    code(callback);
    expect(claims).toMatchObject({ school: OPTIONAL, role: 'student', given_name: 'Gast' });
    expect(await released()).toBe(before + 1);
  });

  it('roster none: the roster is never consulted, the upstream sub is the pupil key', async () => {
    const first = await upstreamLogin(taal, upstream, NO_ROSTER, 'u-stranger');
    const again = await upstreamLogin(taal, upstream, NO_ROSTER, 'u-stranger');
    code(first.callback);
    expect(first.claims).toMatchObject({ school: NO_ROSTER, role: 'student' });
    expect(first.claims.given_name).toBeUndefined();
    expect(again.claims.sub).toBe(first.claims.sub);
  });

  it('a person not on a required roster: not_on_roster 403, counted for the school, nothing released', async () => {
    const before = await released();
    const count = await unmatched();
    const at = await toCallback(reken, upstream, REQUIRED, 'u-stranger');
    code(at.callback);
    await expectRefusal(await answerCallback(at), 403, 'not_on_roster', before);
    expect(await unmatched()).toBe(count + 1);
  });

  it('a wrong tenant: wrong_tenant 403 before the roster is consulted (no unmatched count), nothing released', async () => {
    const before = await released();
    const count = await unmatched();
    const at = await toCallback(reken, upstream, REQUIRED, 'u-other-tenant');
    code(at.callback);
    await expectRefusal(await answerCallback(at), 403, 'wrong_tenant', before);
    expect(await unmatched()).toBe(count);
  });

  it('the upstream cancelled (error=access_denied): upstream_denied 403 naming the error', async () => {
    const before = await released();
    const at = await toCallback(reken, upstream, REQUIRED, undefined);
    expect(at.callback.searchParams.get('error')).toBe('access_denied');
    const body = await expectRefusal(await answerCallback(at), 403, 'upstream_denied', before);
    expect(body).toContain('<code>access_denied</code>');
    // The page names the product the pupil was logging in to.
    expect(body.replace(/<[^>]+>/g, '')).toContain('Je logt in bij Rekenapp van Uitgever A.');
  });

  // Each id_token is re-signed by the provider's own key (so only the named check can refuse it),
  // except the bad signature, signed by a stranger's key under the provider's kid.
  const tampered: [string, (p: Record<string, unknown>) => Record<string, unknown>, 'own' | 'stranger'][] = [
    ['wrong issuer', (p) => ({ ...p, iss: 'http://127.0.0.1:1' }), 'own'],
    ['wrong audience', (p) => ({ ...p, aud: 'someone-else' }), 'own'],
    ['expired id_token', (p) => ({ ...p, iat: Math.floor(Date.now() / 1000) - 3600, exp: Math.floor(Date.now() / 1000) - 1800 }), 'own'],
    ['nonce mismatch', (p) => ({ ...p, nonce: 'not-the-nonce-the-gateway-sent' }), 'own'],
    ['bad signature', (p) => p, 'stranger'],
  ];
  for (const [name, change, signer] of tampered) {
    it(`an id_token with a ${name}: upstream_invalid 400, nothing released`, async () => {
      const before = await released();
      const stranger = await generateKeyPair('ES256');
      const key = signer === 'own' ? upstream.signingKey : { privateKey: stranger.privateKey, kid: upstream.signingKey.kid };
      const at = await toCallback(reken, upstream, REQUIRED, 'u-sanne');
      code(at.callback);
      upstream.tamperIdToken = (idToken) => resignIdToken(idToken, change, key);
      try {
        await expectRefusal(await answerCallback(at), 400, 'upstream_invalid', before);
      } finally {
        upstream.tamperIdToken = undefined;
      }
    });
  }

  it('a forged state: upstream_invalid 400, and the real pending login is still there for the real answer', async () => {
    const before = await released();
    const at = await toCallback(reken, upstream, REQUIRED, 'u-sanne');
    code(at.callback);
    const forged = new URL(at.callback);
    forged.searchParams.set('state', randomBytes(32).toString('base64url'));
    await expectRefusal(await answerCallback(at, forged), 400, 'upstream_invalid', before);
    expect((await answerCallback(at)).status).toBe(303);
  });

  it('a replayed callback: upstream_invalid 400, released once only', async () => {
    const before = await released();
    const at = await toCallback(taal, upstream, NO_ROSTER, 'u-stranger');
    code(at.callback);
    expect((await answerCallback(at)).status).toBe(303);
    await expectRefusal(await answerCallback(at), 400, 'upstream_invalid', before + 1);
  });

  it('a callback in another browser: refused, nothing released', async () => {
    const before = await released();
    const at = await toCallback(reken, upstream, REQUIRED, 'u-sanne');
    code(at.callback);
    const res = await fetch(at.callback, { redirect: 'manual' });
    await expectRefusal(res, 400, 'login_other_browser', before);
  });

  it('a slow upstream: upstream_unavailable 503 with Retry-After once the time bound has passed', async () => {
    const before = await released();
    const at = await toCallback(reken, upstream, REQUIRED, 'u-sanne');
    code(at.callback);
    // Slower than the gateway's bound: the token request would still succeed, but too late.
    upstream.delayMs = TIMEOUT_MS * 3;
    try {
      const res = await answerCallback(at);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      await expectRefusal(res, 503, 'upstream_unavailable', before);
    } finally {
      upstream.delayMs = 0;
    }
  });

  it('an upstream that went down: upstream_unavailable 503 with Retry-After', async () => {
    const before = await released();
    const at = await toCallback(taal, down, DOWN, 'u-stranger');
    code(at.callback);
    await down.close();
    const res = await answerCallback(at);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    await expectRefusal(res, 503, 'upstream_unavailable', before);
  });

  it('an upstream that was never reachable: /authorize answers upstream_unavailable 503 with Retry-After', async () => {
    const before = await released();
    const started = await taal.startLogin({ school_hint: NEVER_UP });
    const res = await fetch(started.url, { redirect: 'manual' });
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    await expectRefusal(res, 503, 'upstream_unavailable', before);
  });

  it('registers an oidc school through the admin API: the OpenAPI document shows the kind, no view or audit shows the secret', async () => {
    const operator = adminClient(gateway.url, BOOTSTRAP);
    const secret = 'admin-secret-0123456789abcdefghij';
    const body = { id: '11AA', name: 'Via de API', login: { kind: 'oidc', issuer: upstream.issuer, clientId: 'gw-11aa', clientSecret: secret, identityClaim: 'preferred_username', require: { hd: 'school.example' } } };
    const created = await operator.post('/schools', body);
    expect(created.status).toBe(201);
    expect(created.text).not.toContain(secret);
    expect((created.body as { login: object }).login).toEqual({ kind: 'oidc', issuer: upstream.issuer, clientId: 'gw-11aa', identityClaim: 'preferred_username', require: { hd: 'school.example' } });
    const audit = await operator.get('/schools/11AA/audit-events');
    expect(audit.status).toBe(200);
    expect(audit.text).toContain('gw-11aa');
    expect(audit.text).not.toContain(secret);
    // A secret and private_key_jwt together, an unknown identity claim, scopes without openid: named, nothing stored.
    const bad = await operator.post('/schools', { ...body, id: '11AB', login: { ...body.login, clientAuth: 'private_key_jwt', identityClaim: 'upn', scopes: ['email'] } });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('clientSecret');
    expect(bad.text).toContain('identityClaim');
    expect(bad.text).toContain('scopes');
    expect((await operator.get('/schools/11AB')).status).toBe(404);
    const doc = JSON.stringify((await adminClient(gateway.url, null).get('/openapi.json')).body);
    for (const word of ['"oidc"', 'identityClaim', 'preferred_username', 'private_key_jwt']) expect(doc).toContain(word);
  });

  it('logs no upstream code, identifier or token', () => {
    const logs = gateway.logs.join('\n');
    expect(seenCodes.length).toBeGreaterThan(5);
    for (const value of seenCodes) expect(logs).not.toContain(value);
    for (const value of ['oid-sanne', 'oid-stranger', 'daan@kompas.example', 'guest@kompas.example', 'u-sanne', 'eyJ']) expect(logs).not.toContain(value);
    expect(logs).toContain('/school/oidc/callback');
  });
}
