import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEY_PREFIX, RedisKv } from '../../src/store/redis-kv.js';
import { fullLogin, postAssertion, toSchool, type SchoolStep } from '../helpers/browser.js';
import { LEES_CB, makeWorld, PUPIL, TAAL_CB, type World } from '../helpers/fixture.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { TestPublisher } from '../helpers/publisher.js';
import { DisposableRedis } from '../helpers/redis-server.js';
import { basicAuth, clientAssertion, codeForm, issueCode, JWT_BEARER, postToken, type IssuedCode } from '../helpers/token-userinfo-requests.js';

// A Redis that stops answering without dropping its connections (a long
// command, a paused process, a stalled network): every request that needs it
// answers 503 with Retry-After within about 1.5 s, and no login completes past
// that. Before, each of a request's Redis commands waited out its own 1 s
// timeout, the pseudonym cache went on without its failed read, and new
// commands queued behind the stalled ones: assertion posts took 4-5 s and one
// still got a code after Redis woke. A redis-server of this test's own is put
// to sleep with DEBUG SLEEP.

const STALL_S = 5;
const BOUND_MS = 1_500;
/** When, from the start of the stall, each round of requests is sent. */
const OFFSETS_MS = [100, 400, 800, 1_300, 2_000, 3_000, 4_000];

interface Outcome {
  what: string;
  sentAt: number;
  elapsed: number;
  status: number;
  retryAfter: string | null;
  location: string | null;
}

describe('Redis stalled (DEBUG SLEEP)', () => {
  let redis: DisposableRedis;
  let control: Redis;
  let world: World;
  let gateway: TestGateway;
  let lees: TestPublisher;
  let taal: TestPublisher;

  beforeAll(async () => {
    redis = await DisposableRedis.start(['--enable-debug-command', 'yes']);
    control = new Redis(redis.url);
    world = await makeWorld();
    gateway = await startGateway({ seed: world.seed, kv: await RedisKv.connect(redis.url) });
    lees = await TestPublisher.create(gateway.url, 'leesapp', LEES_CB, { key: world.leesKey });
    taal = await TestPublisher.create(gateway.url, 'taalapp', TAAL_CB, { secret: world.taalSecret });
  });
  afterAll(async () => {
    await gateway?.close();
    control?.disconnect();
    await redis?.down();
  });

  const codeKeys = async () => (await control.keys(`${KEY_PREFIX}code:*`)).sort();

  async function timed(what: string, stallStart: number, send: () => Promise<Response | { status: number; headers: Headers }>): Promise<Outcome> {
    const started = Date.now();
    const res = await send();
    return {
      what, sentAt: started - stallStart, elapsed: Date.now() - started, status: res.status,
      retryAfter: res.headers.get('retry-after'), location: res.headers.get('location'),
    };
  }

  it(`answers assertion posts and /token with 503 + Retry-After within ${BOUND_MS} ms while Redis sleeps ${STALL_S} s, issues no code, and recovers`, async () => {
    // Before the stall: the release is recorded, and every request below has what it needs but Redis.
    await fullLogin(gateway, world.regenboog, lees, PUPIL);
    const steps: SchoolStep[] = [];
    const assertions: string[] = [];
    const leesCodes: IssuedCode[] = [];
    const taalCodes: IssuedCode[] = [];
    for (const _ of OFFSETS_MS) {
      const step = await toSchool(gateway, world.regenboog, (await lees.startLogin({ school_hint: '12AB' })).url);
      steps.push(step);
      assertions.push(await world.regenboog.assertion(PUPIL, { nonce: step.nonce, aud: gateway.url }));
      leesCodes.push(await issueCode(gateway, world.regenboog, lees, PUPIL));
      taalCodes.push(await issueCode(gateway, world.regenboog, taal, PUPIL));
    }
    const codesBefore = await codeKeys();

    const stallStart = Date.now();
    const sleeping = control.call('DEBUG', 'SLEEP', String(STALL_S));
    const rounds = OFFSETS_MS.map(async (offset, i) => {
      await new Promise((resolve) => setTimeout(resolve, offset));
      const jwt = await clientAssertion(world.leesKey, 'leesapp', { aud: gateway.url });
      return Promise.all([
        timed('assertion', stallStart, () => postAssertion(steps[i]!, assertions[i]!)),
        timed('token (client_secret_basic)', stallStart, () => postToken(`${gateway.url}/token`, codeForm(taalCodes[i]!), { authorization: basicAuth('taalapp', world.taalSecret) })),
        timed('token (private_key_jwt)', stallStart, () => postToken(`${gateway.url}/token`, { ...codeForm(leesCodes[i]!), client_assertion_type: JWT_BEARER, client_assertion: jwt })),
      ]);
    });
    const outcomes = (await Promise.all(rounds)).flat();
    await sleeping;

    // Every request sent while Redis slept: a 503 with Retry-After, in time, with no code.
    const late = outcomes.filter((o) => o.status !== 503 || o.retryAfter !== '5' || o.location !== null || o.elapsed > BOUND_MS);
    expect(late, JSON.stringify(outcomes, null, 1)).toEqual([]);
    console.info(`while Redis slept: ${outcomes.length} requests, slowest answer ${Math.max(...outcomes.map((o) => o.elapsed))} ms`);
    // No code reached anyone (no Location above). An assertion's step that Redis ran when it woke may have
    // written a code and a session (docs/redis-keys.md, "Single-use steps") whose values the gateway never
    // gave out: at most one per assertion posted, and the codes that were there are all still there.
    const codesAfter = await codeKeys();
    expect(codesAfter).toEqual(expect.arrayContaining(codesBefore));
    expect(codesAfter.length - codesBefore.length).toBeLessThanOrEqual(OFFSETS_MS.length);

    // Redis is back: logins work again without a restart.
    const deadline = Date.now() + 10_000;
    let recovered: Awaited<ReturnType<typeof fullLogin>> | undefined;
    while (!recovered && Date.now() < deadline) {
      recovered = await fullLogin(gateway, world.regenboog, lees, PUPIL).catch(() => undefined);
      if (!recovered) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(recovered?.claims.grade).toBe(8);
    expect(gateway.logs.filter((l) => l.includes('"statusCode":500'))).toEqual([]);
  }, 60_000);
});
