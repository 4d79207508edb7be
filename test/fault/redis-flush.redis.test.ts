import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pageOf, refusedPage } from '../helpers/assertion-tests-util.js';
import { fullLogin, get, postAssertion, toSchool, type GatewayView } from '../helpers/browser.js';
import { LEES_CB, makeWorld, PUPIL, type World } from '../helpers/fixture.js';
import { GatewayProcess } from '../helpers/gateway-process.js';
import { TestPublisher } from '../helpers/publisher.js';
import { DisposableRedis } from '../helpers/redis-server.js';
import { clientAssertion, codeForm, expectTokenError, JWT_BEARER, postToken } from '../helpers/token-userinfo-requests.js';

// Redis emptied (FLUSHALL by mistake, a failover to an empty replica) while
// logins are in flight: everything that lived only there fails closed as
// expired (a pending login, a code, an access token, a used assertion), never
// as a 500 and never as a second completion; new logins work at once and give
// the same pseudonyms. The gateway runs as a process, on a Redis of this
// test's own.

describe('Redis flushed with logins in flight', () => {
  let redis: DisposableRedis;
  let control: Redis;
  let world: World;
  let gateway: GatewayProcess;
  let view: GatewayView;
  let lees: TestPublisher;

  beforeAll(async () => {
    redis = await DisposableRedis.start();
    control = new Redis(redis.url);
    world = await makeWorld();
    const dir = await mkdtemp(join(tmpdir(), 'pgw-flush-'));
    await writeFile(join(dir, 'seed.json'), JSON.stringify(world.seed));
    gateway = await GatewayProcess.start({ REDIS_URL: redis.url, DATABASE_URL: '', DATA_DIR: join(dir, 'data'), SEED_FILE: join(dir, 'seed.json'), PSEUDONYM_SCRYPT_N: '1024' });
    view = await gateway.asLoginTarget();
    lees = await TestPublisher.create(gateway.url, 'leesapp', LEES_CB, { key: world.leesKey });
  }, 60_000);
  afterAll(async () => {
    await gateway?.stop();
    control?.disconnect();
    await redis?.down();
  }, 30_000);

  const leesAuth = async () => ({ client_assertion_type: JWT_BEARER, client_assertion: await clientAssertion(world.leesKey, 'leesapp', { aud: gateway.url }) });
  const begin = async () => {
    const started = await lees.startLogin({ school_hint: '12AB' });
    return { started, step: await toSchool(view, world.regenboog, started.url) };
  };

  it('refuses what lived only in Redis as expired, never twice and never with a 500, and logs in again at once with the same pseudonym', async () => {
    const before = await fullLogin(view, world.regenboog, lees, PUPIL);
    // In flight: a login at the school, a code not yet redeemed, an access token, an assertion already used.
    const atSchool = await begin();
    const unredeemed = await begin();
    const back = await postAssertion(unredeemed.step, await world.regenboog.assertion(PUPIL, { nonce: unredeemed.step.nonce, aud: gateway.url }));
    const code = new URL(back.headers.get('location')!).searchParams.get('code')!;
    const used = await begin();
    const usedAssertion = await world.regenboog.assertion(PUPIL, { nonce: used.step.nonce, aud: gateway.url });
    expect((await postAssertion(used.step, usedAssertion)).status).toBe(303);
    expect((await get(`${gateway.url}/userinfo`, { authorization: `Bearer ${before.tokens.access_token}` })).status).toBe(200);

    expect(await control.flushall()).toBe('OK');

    const assertion = await postAssertion(atSchool.step, await world.regenboog.assertion(PUPIL, { nonce: atSchool.step.nonce, aud: gateway.url }));
    expect(await pageOf(assertion)).toEqual(refusedPage('login_expired'));
    // The replay marker is gone with the pending login it consumed: the replay completes nothing.
    expect(await pageOf(await postAssertion(used.step, usedAssertion))).toEqual(refusedPage('login_expired'));
    const form = { ...codeForm({ code, verifier: unredeemed.started.verifier, redirectUri: LEES_CB, clientId: 'leesapp' }), ...(await leesAuth()) };
    expectTokenError(await postToken(`${gateway.url}/token`, form), 400, 'invalid_grant');
    const info = await get(`${gateway.url}/userinfo`, { authorization: `Bearer ${before.tokens.access_token}` });
    expect(info.status).toBe(401);
    expect(info.headers.get('www-authenticate')).toContain('error="invalid_token"');

    const after = await fullLogin(view, world.regenboog, lees, PUPIL);
    expect(after.claims.sub).toBe(before.claims.sub);
    expect(gateway.output.join('')).not.toContain('"statusCode":500');
    expect(gateway.exitCode).toBeUndefined();
  });
});
