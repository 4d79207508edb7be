import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminClient } from '../helpers/admin.js';
import { pageOf, refusedPage } from '../helpers/assertion-tests-util.js';
import { get, postAssertion, toSchool, type SchoolStep } from '../helpers/browser.js';
import { LEES_CB, makeWorld, PUPIL, TAAL_CB, type World } from '../helpers/fixture.js';
import { on, startCluster, type GatewayCluster } from '../helpers/gateway-cluster.js';
import type { GatewayProcess } from '../helpers/gateway-process.js';
import { testKey } from '../helpers/keys.js';
import { TestPublisher } from '../helpers/publisher.js';
import { redisUrl } from '../helpers/redis.js';
import type { TestSchool } from '../helpers/test-school.js';
import { basicAuth, clientAssertion, codeForm, expectTokenError, expectTokens, JWT_BEARER, postToken, type IssuedCode } from '../helpers/token-userinfo-requests.js';

// The refusals of the login journey (one case per refusal code of
// test/http/assertion.test.ts and test/http/token.test.ts; the core happy path,
// test/e2e/login-suite.ts, has none), with two gateway processes sharing Redis
// and PostgreSQL behind one issuer: each login begins on one instance and is
// refused on the other. A refusal at verification leaves the pending login
// usable where it began; what one instance consumed (an assertion, a pending
// login, a code, a client assertion) the other refuses.

const BOOTSTRAP = 'bootstrap-token-0123456789-abcdefghijklmnopqrstuvwxyz';
const nowS = () => Math.floor(Date.now() / 1000);
const b64u = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('login refusals across two gateway instances sharing Redis', () => {
  let world: World;
  let cluster: GatewayCluster;
  let a: GatewayProcess;
  let b: GatewayProcess;
  let lees: TestPublisher;
  let taal: TestPublisher;

  beforeAll(async () => {
    world = await makeWorld();
    cluster = await startCluster(world.seed, 2, {
      REDIS_URL: redisUrl(), OPERATOR_BOOTSTRAP_TOKEN: BOOTSTRAP, REGISTRY_REFRESH_SECONDS: '3600',
      RATE_LIMIT_ASSERTION_PER_MIN: '100000', RATE_LIMIT_TOKEN_PER_MIN: '100000', RATE_LIMIT_TOKEN_IP_PER_MIN: '100000',
    });
    [a, b] = cluster.instances as [GatewayProcess, GatewayProcess];
    lees = await TestPublisher.create(cluster.issuer, 'leesapp', LEES_CB, { key: world.leesKey });
    taal = await TestPublisher.create(cluster.issuer, 'taalapp', TAAL_CB, { secret: world.taalSecret });
  }, 90_000);
  afterAll(async () => {
    await cluster?.stop();
  }, 30_000);

  /** A publisher starts a login, and the browser reaches the school through `instance`. */
  async function begin(instance: GatewayProcess, school: TestSchool = world.regenboog, publisher = lees, pupilHint = school.id) {
    const started = await publisher.startLogin({ school_hint: pupilHint });
    const step = await toSchool(cluster.view, school, new URL(on(instance, started.url)));
    return { started, step };
  }
  const genuine = (step: SchoolStep, school = world.regenboog, claims: Record<string, unknown> = {}) =>
    school.assertion(PUPIL, { nonce: step.nonce, aud: cluster.issuer, claims });
  /** The browser that began the login posts the school's answer, which the load balancer sends to `instance`. */
  const post = (instance: GatewayProcess, step: SchoolStep, token: string) => postAssertion({ ...step, returnTo: on(instance, step.returnTo) }, token);

  describe('refused at verification on one instance, the pending login still completes on the other', () => {
    type Forge = (step: SchoolStep) => Promise<string>;
    const signed = (claims: Record<string, unknown>, header: Record<string, unknown> = {}): Forge => (step) =>
      world.regenboog.assertion(PUPIL, { nonce: step.nonce, aud: cluster.issuer, claims, header });
    const now = () => nowS();
    const cases: Array<[string, string, Forge]> = [
      ['not a JWS at all', 'assertion_malformed', () => Promise.resolve('not.a.jws')],
      ['typ JWT', 'assertion_wrong_type', signed({}, { typ: 'JWT' })],
      ['alg none', 'assertion_alg_not_allowed', (s) => Promise.resolve(`${b64u({ alg: 'none', kid: world.regenboog.key.kid, typ: 'school-assertion+jwt' })}.${b64u({ iss: world.regenboog.issuer, aud: cluster.issuer, nonce: s.nonce })}.x`)],
      ['ES384 with a real key', 'assertion_alg_not_allowed', async (s) => world.regenboog.assertion(PUPIL, { nonce: s.nonce, aud: cluster.issuer, key: await testKey('ES384', world.regenboog.key.kid) })],
      ['kid empty', 'assertion_kid_invalid', signed({}, { kid: '' })],
      ['an unknown issuer', 'assertion_unknown_issuer', signed({ iss: 'https://idp.unknown.example' })],
      ["addressed to the instance's own address, not the issuer", 'assertion_wrong_audience', (s) => signed({ aud: b.url })(s)],
      ['an unknown kid', 'assertion_unknown_key', signed({}, { kid: 'no-such-key' })],
      ["signed by another key under the school's kid", 'assertion_signature_invalid', async (s) => world.regenboog.assertion(PUPIL, { nonce: s.nonce, aud: cluster.issuer, key: await testKey('ES256', world.regenboog.key.kid) })],
      ['expired', 'assertion_expired', (s) => signed({ iat: now() - 200, exp: now() - 100 })(s)],
      ['issued in the future', 'assertion_not_yet_valid', (s) => signed({ iat: now() + 120, exp: now() + 240 })(s)],
      ['living longer than 300 s', 'assertion_lifetime_too_long', (s) => signed({ iat: now(), exp: now() + 600 })(s)],
      ['school in lower case', 'assertion_claims_invalid', signed({ school: '12ab' })],
      ['a school registered under another issuer', 'assertion_school_mismatch', signed({ school: '34CD01' })],
    ];
    it.each(cases)('%s: %s', async (_name, code, forge) => {
      const [first, second] = code.length % 2 ? [a, b] : [b, a];
      const { step } = await begin(first);
      expect(await pageOf(await post(second, step, await forge(step)))).toEqual(refusedPage(code));
      const done = await post(first, step, await genuine(step));
      expect(done.status).toBe(303);
      expect(new URL(done.headers.get('location')!).searchParams.get('code')).toBeTruthy();
    });
  });

  describe('what one instance consumed, the other refuses', () => {
    it('the same assertion posted again on the other instance: assertion_replayed', async () => {
      const { step } = await begin(a);
      const token = await genuine(step);
      expect((await post(a, step, token)).status).toBe(303);
      expect(await pageOf(await post(b, step, token))).toEqual(refusedPage('assertion_replayed'));
    });

    it('a new assertion reusing a jti used on the other instance: assertion_replayed', async () => {
      const jti = randomUUID();
      const first = await begin(a);
      expect((await post(a, first.step, await genuine(first.step, world.regenboog, { jti }))).status).toBe(303);
      const second = await begin(b);
      expect(await pageOf(await post(b, second.step, await genuine(second.step, world.regenboog, { jti })))).toEqual(refusedPage('assertion_replayed'));
    });

    it('a pending login completed on one instance, a second valid assertion for it on the other: login_expired', async () => {
      const { step } = await begin(b);
      expect((await post(b, step, await genuine(step))).status).toBe(303);
      expect(await pageOf(await post(a, step, await genuine(step, world.regenboog, { sub: 'another-pupil' })))).toEqual(refusedPage('login_expired'));
    });

    it('the answer posted to the other instance from another browser (no login cookie): login_other_browser', async () => {
      const { step } = await begin(a);
      expect(await pageOf(await post(b, { ...step, cookie: '' }, await genuine(step)))).toEqual(refusedPage('login_other_browser'));
    });

    it('a nonce no instance issued: login_expired', async () => {
      const { step } = await begin(a);
      expect(await pageOf(await post(b, step, await genuine({ ...step, nonce: 'a-nonce-no-instance-issued' })))).toEqual(refusedPage('login_expired'));
    });

    it("another school's assertion for this school's pending login: assertion_school_mismatch, and no code", async () => {
      const { step } = await begin(a);
      const res = await post(b, step, await world.klimop.assertion(PUPIL, { nonce: step.nonce, aud: cluster.issuer }));
      expect(await pageOf(res)).toEqual(refusedPage('assertion_school_mismatch'));
    });

    it('a school without a licence for the product: no_licence on the other instance', async () => {
      const { step } = await begin(a, world.klimop);
      expect(await pageOf(await post(b, step, await genuine(step, world.klimop)))).toEqual(refusedPage('no_licence', 403));
    });

    it("an objection recorded through one instance's admin API stops the next login on the other: objection", async () => {
      const pupil = 'leerling-bezwaar';
      const operator = adminClient(a.url, BOOTSTRAP);
      expect((await operator.post('/schools/12AB/objections', { studentKey: pupil, client: 'leesapp' })).status).toBe(201);
      const { step } = await begin(a);
      // The change notice reaches the other instance within a second; poll, bounded.
      let outcome;
      for (const deadline = Date.now() + 5_000; Date.now() < deadline;) {
        const { step: attempt } = await begin(a);
        outcome = await pageOf(await post(b, attempt, await genuine(attempt, world.regenboog, { sub: pupil })));
        if (outcome.code === 'objection') break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(outcome).toEqual(refusedPage('objection', 403));
      // Another pupil of the school is not affected.
      expect((await post(b, step, await genuine(step))).status).toBe(303);
    });
  });

  describe('token refusals across instances', () => {
    /** A login through `instance` up to the publisher's callback: the code, not yet redeemed. */
    async function codeFrom(instance: GatewayProcess, publisher: TestPublisher): Promise<IssuedCode> {
      const { started, step } = await begin(instance, world.regenboog, publisher);
      const res = await post(instance, step, await genuine(step));
      expect(res.status).toBe(303);
      const code = new URL(res.headers.get('location')!).searchParams.get('code')!;
      return { code, verifier: started.verifier, redirectUri: publisher.redirectUri, clientId: publisher.clientId };
    }
    const leesAuth = async () => ({ client_assertion_type: JWT_BEARER, client_assertion: await clientAssertion(world.leesKey, 'leesapp', { aud: cluster.issuer }) });
    const redeem = async (instance: GatewayProcess, issued: IssuedCode, over: Record<string, string> = {}) =>
      postToken(`${instance.url}/token`, { ...codeForm(issued), ...(await leesAuth()), ...over });
    const userinfo = (instance: GatewayProcess, token: string) => get(`${instance.url}/userinfo`, { authorization: `Bearer ${token}` });

    it('a code redeemed on one instance and replayed on the other: invalid_grant, and the first access token is revoked on both', async () => {
      const issued = await codeFrom(a, lees);
      const { accessToken } = expectTokens(await redeem(b, issued));
      expect((await userinfo(a, accessToken)).status).toBe(200);
      expectTokenError(await redeem(a, issued), 400, 'invalid_grant');
      for (const instance of [a, b]) expect((await userinfo(instance, accessToken)).status).toBe(401);
    });

    it("another client redeeming the code on the other instance: invalid_grant", async () => {
      const issued = await codeFrom(a, lees);
      const res = await postToken(`${b.url}/token`, codeForm(issued), { authorization: basicAuth('taalapp', world.taalSecret) });
      expectTokenError(res, 400, 'invalid_grant');
    });

    it('a wrong code_verifier on one instance burns the code for the other: invalid_grant twice', async () => {
      const issued = await codeFrom(b, lees);
      expectTokenError(await redeem(a, issued, { code_verifier: 'x'.repeat(43) }), 400, 'invalid_grant');
      expectTokenError(await redeem(b, issued), 400, 'invalid_grant');
    });

    it('a redirect_uri other than the one the login used: invalid_grant', async () => {
      const issued = await codeFrom(a, lees);
      expectTokenError(await redeem(b, issued, { redirect_uri: 'https://leesapp.example/other' }), 400, 'invalid_grant');
    });

    it('a client assertion used on one instance and reused on the other: invalid_client', async () => {
      const auth = await leesAuth();
      expectTokens(await postToken(`${a.url}/token`, { ...codeForm(await codeFrom(a, lees)), ...auth }));
      expectTokenError(await postToken(`${b.url}/token`, { ...codeForm(await codeFrom(b, lees)), ...auth }), 401, 'invalid_client');
    });

    it('a wrong client secret, and a code no instance issued: invalid_client, invalid_grant', async () => {
      const issued = await codeFrom(a, taal);
      expectTokenError(await postToken(`${b.url}/token`, codeForm(issued), { authorization: basicAuth('taalapp', 'not-the-secret-0123456789-abcdefghij') }), 401, 'invalid_client');
      expectTokenError(await postToken(`${b.url}/token`, { ...codeForm(issued), code: 'a-code-no-instance-issued' }, { authorization: basicAuth('taalapp', world.taalSecret) }), 400, 'invalid_grant');
    });

    it('no answer on either instance was a 500', () => {
      for (const instance of [a, b]) expect(instance.output.join('')).not.toContain('"statusCode":500');
    });
  });
});
