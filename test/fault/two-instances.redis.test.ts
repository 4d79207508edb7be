import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fullLogin, get, postAssertion, toSchool } from '../helpers/browser.js';
import { LEES_CB, makeWorld, PUPIL, TAAL_CB, type World } from '../helpers/fixture.js';
import { on, startCluster, type GatewayCluster } from '../helpers/gateway-cluster.js';
import type { GatewayProcess } from '../helpers/gateway-process.js';
import { testKey } from '../helpers/keys.js';
import { freePort } from '../helpers/net.js';
import { TestPublisher } from '../helpers/publisher.js';
import { redisUrl } from '../helpers/redis.js';
import { basicAuth, clientAssertion, codeForm, expectTokenError, expectTokens, JWT_BEARER, postToken, type HttpResult, type IssuedCode } from '../helpers/token-userinfo-requests.js';

// Faults with gateway processes sharing Redis and PostgreSQL behind one issuer:
// an instance killed in the middle of a login, one code redeemed 50 ways at once
// over two instances, and a publisher whose JWKS endpoint never answers.

const HANG_CB = 'https://hangapp.example/cb';

describe('gateway instances sharing Redis: kills, races and a silent publisher', () => {
  let world: World;
  let cluster: GatewayCluster;
  let a: GatewayProcess;
  let b: GatewayProcess;
  let c: GatewayProcess;
  let lees: TestPublisher;
  /** A JWKS endpoint that accepts connections and never answers. */
  let silent: Server;
  const silentConnections: Socket[] = [];

  beforeAll(async () => {
    world = await makeWorld();
    const silentPort = await freePort();
    silent = createServer((socket) => void silentConnections.push(socket.on('error', () => undefined)));
    await new Promise<void>((resolve) => silent.listen(silentPort, '127.0.0.1', resolve));
    const seed = {
      ...world.seed,
      clients: [...world.seed.clients, { clientId: 'hangapp', supplier: 'uitgever-a', name: 'Hangapp', redirectUris: [HANG_CB], jwksUri: `http://127.0.0.1:${silentPort}/jwks.json`, claims: ['school'] }],
      licences: [...world.seed.licences, { school: '12AB', client: 'hangapp', claims: ['school'] }],
    };
    cluster = await startCluster(seed, 3, {
      REDIS_URL: redisUrl(), RATE_LIMIT_ASSERTION_PER_MIN: '100000', RATE_LIMIT_TOKEN_PER_MIN: '100000', RATE_LIMIT_TOKEN_IP_PER_MIN: '100000',
    });
    [a, b, c] = cluster.instances as [GatewayProcess, GatewayProcess, GatewayProcess];
    lees = await TestPublisher.create(cluster.issuer, 'leesapp', LEES_CB, { key: world.leesKey });
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
    for (const socket of silentConnections) socket.destroy();
    silent?.close();
  }, 30_000);

  const leesAuth = async () => ({ client_assertion_type: JWT_BEARER, client_assertion: await clientAssertion(world.leesKey, 'leesapp', { aud: cluster.issuer }) });
  const userinfo = (instance: GatewayProcess, token: string) => get(`${instance.url}/userinfo`, { authorization: `Bearer ${token}` });

  /** A login through `instance` up to the publisher's callback: the code, not yet redeemed. */
  async function codeFrom(instance: GatewayProcess, publisher: TestPublisher = lees): Promise<IssuedCode> {
    const started = await publisher.startLogin({ school_hint: '12AB' });
    const step = await toSchool(cluster.view, world.regenboog, new URL(on(instance, started.url)));
    const res = await postAssertion({ ...step, returnTo: on(instance, step.returnTo) }, await world.regenboog.assertion(PUPIL, { nonce: step.nonce, aud: cluster.issuer }));
    expect(res.status).toBe(303);
    return { code: new URL(res.headers.get('location')!).searchParams.get('code')!, verifier: started.verifier, redirectUri: publisher.redirectUri, clientId: publisher.clientId };
  }

  describe('a code redeemed 50 ways at once over two instances', () => {
    it('49 requests that fail client authentication and one genuine one: exactly one token, and it stays valid', async () => {
      const issued = await codeFrom(a);
      const attacker = await testKey('ES256', world.leesKey.kid);
      const wrong: Array<() => Promise<Record<string, string>>> = [
        async () => ({ client_assertion_type: JWT_BEARER, client_assertion: await clientAssertion(attacker, 'leesapp', { aud: cluster.issuer }) }),
        // An instance's own address is not the issuer (the first instance's address is).
        async () => ({ client_assertion_type: JWT_BEARER, client_assertion: await clientAssertion(world.leesKey, 'leesapp', { aud: b.url }) }),
        async () => ({ client_assertion_type: JWT_BEARER, client_assertion: await clientAssertion(world.leesKey, 'rekenapp', { aud: cluster.issuer }) }),
        async () => ({ client_assertion_type: 'urn:example:other', client_assertion: await clientAssertion(world.leesKey, 'leesapp', { aud: cluster.issuer }) }),
        async () => ({ client_id: 'leesapp' }),
      ];
      const requests = Array.from({ length: 50 }, async (_, i) => {
        const instance = i % 2 ? b : a;
        if (i === 25) return postToken(`${instance.url}/token`, { ...codeForm(issued), ...(await leesAuth()) });
        return postToken(`${instance.url}/token`, { ...codeForm(issued), ...(await wrong[i % wrong.length]!()) });
      });
      const results = await Promise.all(requests);
      const winners = results.filter((r) => r.status === 200);
      expect(winners).toHaveLength(1);
      for (const r of results.filter((x) => x.status !== 200)) expect([400, 401]).toContain(r.status);
      const { accessToken } = expectTokens(winners[0]!);
      for (const instance of [a, b]) expect((await userinfo(instance, accessToken)).status).toBe(200);
    });

    it('50 genuine redemptions: at most one token, and the replays that follow it revoke it on both instances', async () => {
      const issued = await codeFrom(b);
      const forms = await Promise.all(Array.from({ length: 50 }, async () => ({ ...codeForm(issued), ...(await leesAuth()) })));
      const results: HttpResult[] = await Promise.all(forms.map((form, i) => postToken(`${(i % 2 ? a : b).url}/token`, form)));
      const winners = results.filter((r) => r.status === 200);
      // One redemption takes the code; the other 49 are replays. A replay that lands before the winner
      // has stored its access token revokes it first, and then the winner is refused too (no token at
      // all): so at most one token, never two.
      expect(winners.length).toBeLessThanOrEqual(1);
      for (const r of results.filter((x) => x.status !== 200)) expectTokenError(r, 400, 'invalid_grant');
      for (const winner of winners) {
        const { accessToken } = expectTokens(winner);
        for (const instance of [a, b]) expect((await userinfo(instance, accessToken)).status).toBe(401);
      }
    });

    it('one redemption, then a replay on the other instance: the token worked until the replay, then is revoked on both', async () => {
      const issued = await codeFrom(a, await TestPublisher.create(cluster.issuer, 'taalapp', TAAL_CB, { secret: world.taalSecret }));
      const auth = { authorization: basicAuth('taalapp', world.taalSecret) };
      const { accessToken } = expectTokens(await postToken(`${a.url}/token`, codeForm(issued), auth));
      for (const instance of [a, b]) expect((await userinfo(instance, accessToken)).status).toBe(200);
      expectTokenError(await postToken(`${b.url}/token`, codeForm(issued), auth), 400, 'invalid_grant');
      for (const instance of [a, b]) expect((await userinfo(instance, accessToken)).status).toBe(401);
    });
  });

  it("a publisher whose JWKS endpoint never answers: /token answers invalid_client within the fetch's time limit, and logins go on meanwhile", async () => {
    const key = await testKey('ES256');
    const form = { grant_type: 'authorization_code', code: 'x', redirect_uri: HANG_CB, code_verifier: 'v'.repeat(43), client_assertion_type: JWT_BEARER };
    const started = Date.now();
    const pending = postToken(`${a.url}/token`, { ...form, client_assertion: await clientAssertion(key, 'hangapp', { aud: cluster.issuer }) });
    // While that fetch hangs, the same instance serves a whole login.
    const during = await fullLogin({ url: cluster.issuer, signing: cluster.view.signing }, world.regenboog, lees, PUPIL);
    expect(during.claims.grade).toBe(8);
    const res = await pending;
    const elapsed = Date.now() - started;
    expectTokenError(res, 401, 'invalid_client');
    expect(silentConnections.length).toBeGreaterThan(0);
    // jose's fetch is bounded to 2 s; the rest is scheduling on a shared machine.
    expect(elapsed).toBeLessThan(3_500);
  });

  it('an instance killed mid-login: the login it began completes on another, and a code it issued is redeemed on a third', async () => {
    // Begun on c: the pending login is in Redis, so c's death does not lose it.
    const started = await lees.startLogin({ school_hint: '12AB' });
    const step = await toSchool(cluster.view, world.regenboog, new URL(on(c, started.url)));
    const issuedByC = await codeFrom(c);
    await c.kill();
    expect(c.exitCode).toBeNull();
    const res = await postAssertion({ ...step, returnTo: on(a, step.returnTo) }, await world.regenboog.assertion(PUPIL, { nonce: step.nonce, aud: cluster.issuer }));
    expect(res.status).toBe(303);
    const code = new URL(res.headers.get('location')!).searchParams.get('code')!;
    expectTokens(await postToken(`${b.url}/token`, { ...codeForm({ code, verifier: started.verifier, redirectUri: LEES_CB, clientId: 'leesapp' }), ...(await leesAuth()) }));
    const { accessToken } = expectTokens(await postToken(`${b.url}/token`, { ...codeForm(issuedByC), ...(await leesAuth()) }));
    expect((await userinfo(a, accessToken)).status).toBe(200);
    for (const instance of [a, b]) expect(instance.output.join('')).not.toContain('"statusCode":500');
  });
});
