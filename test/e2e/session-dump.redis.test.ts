import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar } from '../helpers/cookie-jar.js';
import { LEES_CB, makeWorld, PUPIL, TAAL_CB, type World } from '../helpers/fixture.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { TestPublisher } from '../helpers/publisher.js';
import { isolatedRedisKv, redisUrl } from '../helpers/redis.js';

// A Redis dump taken during an SSO session holds none of the pupil's
// attributes or key, and no usable cookie. Real Redis, the real app, a
// school login and a second product opened from the session.

const CANARY = {
  ...PUPIL,
  sub: 'canary-key-7Qw9Zx',
  given_name: 'Canarygiven',
  family_name: 'Canaryfamily',
  tussenvoegsel: 'vanCanary',
  birthdate: '2013-07-19',
  gender: 'canarygender',
  groups: [{ key: 'canary-group-key', name: 'Canary Groep', grade: 8 }],
};

let world: World;
let gateway: TestGateway;
let prefix: string;
let raw: Redis;

beforeAll(async () => {
  world = await makeWorld();
  const isolated = await isolatedRedisKv();
  prefix = isolated.prefix;
  gateway = await startGateway({ seed: world.seed, kv: isolated.kv });
  raw = new Redis(redisUrl());
});
afterAll(async () => {
  await gateway?.close();
  raw?.disconnect();
});

/** Every key under this gateway's prefix with its value, as DUMP-and-read would reveal them. */
async function dump(): Promise<string> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await raw.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  const values = await Promise.all(keys.map(async (k) => `${k} ${(await raw.get(k)) ?? ''} ttl=${await raw.pttl(k)}`));
  return values.join('\n');
}

describe('a Redis dump during an SSO session', () => {
  it('holds no pupil attribute, key or cookie, and every key expires', async () => {
    const taal = await TestPublisher.create(gateway.url, 'taalapp', TAAL_CB, { secret: world.taalSecret });
    const lees = await TestPublisher.create(gateway.url, 'leesapp', LEES_CB, { key: world.leesKey });
    const jar = new CookieJar();
    const started = await taal.startLogin({ school_hint: '12AB' });
    const toSchool = await jar.get(started.url);
    const { payload } = await world.regenboog.readLoginRequest(toSchool.headers.get('location')!, gateway.signing.jwks, gateway.url);
    const posted = await jar.post(payload.return_to, { assertion: await world.regenboog.assertion(CANARY, { nonce: payload.nonce, aud: gateway.url }) });
    expect(posted.status).toBe(303);
    const claims = (await taal.finishLogin(new URL(posted.headers.get('location')!), started)).claims()!;
    expect(claims.given_name).toBe('Canarygiven');
    const second = await lees.startLogin();
    const fromSession = await jar.get(second.url);
    expect(fromSession.headers.get('location')!.startsWith(LEES_CB)).toBe(true);

    const text = await dump();
    expect(text).toMatch(/:sess:/);
    const cookie = jar.cookies.get('pgw_session')!;
    for (const secret of [CANARY.sub, 'Canarygiven', 'Canaryfamily', 'vanCanary', CANARY.birthdate, 'canarygender', 'canary-group-key', 'Canary Groep', cookie]) {
      expect(text).not.toContain(secret);
    }
    expect(text).not.toMatch(/ttl=-1/);
  });
});
