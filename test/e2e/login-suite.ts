import { randomBytes } from 'node:crypto';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Kv } from '../../src/store/kv.js';
import { fullLogin, postAssertion, toSchool } from '../helpers/browser.js';
import { call, clientAssertion, codeForm, expectTokenError, expectTokens, issueCode, JWT_BEARER, postToken } from '../helpers/token-userinfo-requests.js';
import { LEES_CB, makeWorld, PUPIL, REKEN_CB, TAAL_CB, type World } from '../helpers/fixture.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { TestPublisher } from '../helpers/publisher.js';

/** The happy path, run once per KV adapter. */
export function defineLoginSuite(makeKv: () => Promise<{ kv: Kv; cleanup: () => Promise<void> }>) {
  let world: World;
  let gateway: TestGateway;
  let reken: TestPublisher;
  let lees: TestPublisher;
  let taal: TestPublisher;
  let cleanup: () => Promise<void>;
  const masterKey = randomBytes(32);

  beforeAll(async () => {
    world = await makeWorld();
    const store = await makeKv();
    cleanup = store.cleanup;
    gateway = await startGateway({ seed: world.seed, kv: store.kv, masterKey });
    reken = await TestPublisher.create(gateway.url, 'rekenapp', REKEN_CB, { key: world.rekenKey });
    lees = await TestPublisher.create(gateway.url, 'leesapp', LEES_CB, { key: world.leesKey });
    taal = await TestPublisher.create(gateway.url, 'taalapp', TAAL_CB, { secret: world.taalSecret });
  });
  afterAll(async () => {
    await gateway?.close();
    await cleanup?.();
  });

  it('logs a pupil in with private_key_jwt: a valid ES256 id_token with exactly the licensed claims', async () => {
    const { claims, tokens, started } = await fullLogin(gateway, world.regenboog, reken, PUPIL);
    const { payload } = await jwtVerify(tokens.id_token!, createLocalJWKSet(gateway.signing.jwks), { issuer: gateway.url, audience: 'rekenapp' });
    expect(decodeProtectedHeader(tokens.id_token!).alg).toBe('ES256');
    expect(payload.nonce).toBe(started.nonce);
    expect(payload.exp! - payload.iat!).toBe(300);
    expect(typeof payload.auth_time).toBe('number');
    expect(claims.sub).toMatch(/^[a-z2-7]{32}$/);
    // Licence for rekenapp at 12AB releases school, grade, groups, group_names; nothing else.
    const released = Object.keys(payload).filter((k) => !['iss', 'aud', 'sub', 'iat', 'exp', 'nonce', 'auth_time'].includes(k)).sort();
    expect(released).toEqual(['grade', 'group_names', 'groups', 'school']);
    expect(payload.school).toBe('12AB');
    expect(payload.grade).toBe(8);
    expect(payload.group_names).toEqual(['Groep 8A']);
    expect(payload.groups).toEqual([expect.stringMatching(/^[a-z2-7]{32}$/)]);
    expect(JSON.stringify(payload)).not.toContain(PUPIL.sub);
    expect(JSON.stringify(payload)).not.toContain('Sanne');
  });

  // Each request's single-use work is one step (docs/redis-keys.md, "Single-use steps"): one script on Redis.
  it('50 concurrent posts of one assertion: exactly one login, 49 pages assertion_replayed', async () => {
    const started = await reken.startLogin({ school_hint: world.regenboog.id });
    const step = await toSchool(gateway, world.regenboog, started.url);
    const assertion = await world.regenboog.assertion(PUPIL, { nonce: step.nonce, aud: gateway.url });
    const responses = await Promise.all(Array.from({ length: 50 }, () => postAssertion(step, assertion)));
    const winners = responses.filter((r) => r.status === 303);
    expect(winners).toHaveLength(1);
    expect(new URL(winners[0]!.headers.get('location')!).searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const refused = await Promise.all(responses.filter((r) => r.status !== 303).map(async (r) => [r.status, /<code>([a-z_]+)<\/code>/.exec(await r.text())?.[1]]));
    expect(refused).toEqual(Array.from({ length: 49 }, () => [400, 'assertion_replayed']));
  });

  it('50 concurrent redemptions of one code: exactly one token response, 49 invalid_grant, and the winner\'s token revoked', async () => {
    const issued = await issueCode(gateway, world.regenboog, reken, PUPIL);
    const forms = await Promise.all(Array.from({ length: 50 }, async () => ({
      ...codeForm(issued), client_assertion_type: JWT_BEARER, client_assertion: await clientAssertion(world.rekenKey, 'rekenapp', { aud: gateway.url }),
    })));
    const results = await Promise.all(forms.map((form) => postToken(`${gateway.url}/token`, form)));
    const winners = results.filter((r) => r.status === 200);
    expect(winners).toHaveLength(1);
    for (const r of results.filter((x) => x.status !== 200)) expectTokenError(r, 400, 'invalid_grant');
    const { accessToken } = expectTokens(winners[0]!);
    expect((await call(`${gateway.url}/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } })).status).toBe(401);
  });

  it('a client assertion used twice: the second is refused before it touches the code, which stays redeemable', async () => {
    const issued = await issueCode(gateway, world.regenboog, reken, PUPIL);
    const auth = { client_assertion_type: JWT_BEARER, client_assertion: await clientAssertion(world.rekenKey, 'rekenapp', { aud: gateway.url }) };
    const other = await issueCode(gateway, world.regenboog, reken, PUPIL);
    expectTokens(await postToken(`${gateway.url}/token`, { ...codeForm(other), ...auth }));
    expectTokenError(await postToken(`${gateway.url}/token`, { ...codeForm(issued), ...auth }), 401, 'invalid_client');
    const fresh = { client_assertion_type: JWT_BEARER, client_assertion: await clientAssertion(world.rekenKey, 'rekenapp', { aud: gateway.url }) };
    expectTokens(await postToken(`${gateway.url}/token`, { ...codeForm(issued), ...fresh }));
  });

  it('answers userinfo with the same released claims', async () => {
    const { claims, tokens } = await fullLogin(gateway, world.regenboog, reken, PUPIL);
    const info = await reken.userinfo(tokens.access_token, claims.sub);
    expect(info).toEqual({ sub: claims.sub, school: '12AB', grade: 8, groups: claims.groups, group_names: ['Groep 8A'] });
  });

  it('gives the same sub across logins and products of one supplier, and a different one at another supplier', async () => {
    const first = await fullLogin(gateway, world.regenboog, reken, PUPIL);
    const again = await fullLogin(gateway, world.regenboog, reken, PUPIL);
    const sameSupplier = await fullLogin(gateway, world.regenboog, lees, PUPIL);
    const otherSupplier = await fullLogin(gateway, world.regenboog, taal, PUPIL);
    expect(again.claims.sub).toBe(first.claims.sub);
    expect(sameSupplier.claims.sub).toBe(first.claims.sub);
    expect(otherSupplier.claims.sub).not.toBe(first.claims.sub);
    expect(otherSupplier.claims.sub).toMatch(/^[a-z2-7]{32}$/);
  });

  it('logs in with client_secret_basic and releases that licence: school, role, given_name', async () => {
    const { claims } = await fullLogin(gateway, world.regenboog, taal, PUPIL);
    const released = Object.keys(claims).filter((k) => !['iss', 'aud', 'sub', 'iat', 'exp', 'nonce', 'auth_time'].includes(k)).sort();
    expect(released).toEqual(['given_name', 'role', 'school']);
    expect(claims.given_name).toBe('Sanne');
    expect(claims.role).toBe('student');
  });

  it('gives the published test-vector pseudonyms (docs/pseudonyms.md) through a real login at the default scrypt cost', async () => {
    const store = await makeKv();
    const vectors = await startGateway({
      seed: world.seed,
      kv: store.kv,
      masterKey: Buffer.from(Array.from({ length: 32 }, (_, i) => i)),
      env: { PSEUDONYM_SCRYPT_N: '32768' },
    });
    try {
      const publisherA = await TestPublisher.create(vectors.url, 'rekenapp', REKEN_CB, { key: world.rekenKey });
      const publisherB = await TestPublisher.create(vectors.url, 'taalapp', TAAL_CB, { secret: world.taalSecret });
      const pupil = { sub: '4711', groups: [{ key: '8a', name: 'Groep 8A', grade: 8 }] };
      const atA = await fullLogin(vectors, world.regenboog, publisherA, pupil);
      expect(atA.claims.sub).toBe('ayuwtak63urbhcbanqfdflx5ozwgdopb');
      expect(atA.claims.groups).toEqual(['jahtvrobmeyichj3iuyysylxvuzqzdr6']);
      const atB = await fullLogin(vectors, world.regenboog, publisherB, pupil);
      expect(atB.claims.sub).toBe('euxkgceav4qh6riqynbmabpgt7jfnodm');
    } finally {
      await vectors.close();
      await store.cleanup();
    }
  });

  it('keeps the sub stable across a restart with the same master key', async () => {
    const before = await fullLogin(gateway, world.regenboog, lees, PUPIL);
    const store = await makeKv();
    const second = await startGateway({ seed: world.seed, kv: store.kv, masterKey });
    try {
      const publisher = await TestPublisher.create(second.url, 'leesapp', LEES_CB, { key: world.leesKey });
      const after = await fullLogin(second, world.regenboog, publisher, PUPIL);
      expect(after.claims.sub).toBe(before.claims.sub);
    } finally {
      await second.close();
      await store.cleanup();
    }
  });
}
