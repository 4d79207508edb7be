import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, jwtVerify, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotateKeys } from '../../src/cli/keys.js';
import { get, loginCookieOf, postAssertion } from '../helpers/browser.js';
import { makeWorld, PUPIL, TAAL_CB, type World } from '../helpers/fixture.js';
import { TEST_SCRYPT } from '../helpers/gateway.js';
import { freePort } from '../helpers/net.js';
import { TestPublisher } from '../helpers/publisher.js';
import { redisUrl } from '../helpers/redis.js';
import { freshPgDatabase } from '../helpers/db.js';
import { referencePseudonyms } from '../helpers/reference-pseudonym.js';
import { basicAuth, expectTokens, postToken } from '../helpers/token-userinfo-requests.js';

// Scale-out (docs/scale-out.md): two gateway processes (`src/main.ts`, as
// operators start it) on different ports share Redis, one DATA_DIR key file and
// one master key, behind a notional load balancer at ISSUER. A login started on
// one completes on the other, in both directions, and a signing-key rotation
// written to the shared key file reaches both without a restart. They share
// PostgreSQL too (DATABASE_URL): the embedded PGlite serves one process only.

interface Instance { url: string; process: ChildProcess; out: string[] }

function startInstance(env: Record<string, string>, port: number): Promise<Instance> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env: { ...process.env, ...env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  const instance: Instance = { url: `http://127.0.0.1:${port}`, process: child, out: [] };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway on ${port} not ready:\n${instance.out.join('')}`)), 20_000);
    const onData = (chunk: Buffer) => {
      instance.out.push(chunk.toString());
      if (chunk.toString().includes('"msg":"gateway ready"')) {
        clearTimeout(timer);
        resolve(instance);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gateway on ${port} exited with ${code}:\n${instance.out.join('')}`));
    });
  });
}

const stop = (instance: Instance | undefined) =>
  new Promise<void>((resolve) => {
    if (!instance || instance.process.exitCode !== null) return resolve();
    instance.process.once('exit', () => resolve());
    instance.process.kill('SIGTERM');
  });

/** The same path and query on another instance: what a load balancer does between two requests. */
const on = (instance: Instance, url: string | URL) => {
  const moved = new URL(url);
  const target = new URL(instance.url);
  moved.host = target.host;
  return moved;
};

const jwksOf = async (instance: Instance): Promise<JWK[]> => ((await (await fetch(`${instance.url}/jwks.json`)).json()) as { keys: JWK[] }).keys;

describe('two gateway processes sharing Redis, keys and master key', () => {
  const master = randomBytes(32);
  let world: World;
  let dataDir: string;
  let issuer: string;
  let a: Instance;
  let b: Instance;
  let database: Awaited<ReturnType<typeof freshPgDatabase>>;

  beforeAll(async () => {
    database = await freshPgDatabase();
    world = await makeWorld();
    const dir = await mkdtemp(join(tmpdir(), 'pgw-scale-'));
    dataDir = join(dir, 'data');
    await writeFile(join(dir, 'seed.json'), JSON.stringify(world.seed));
    const [portA, portB] = [await freePort(), await freePort()];
    issuer = `http://127.0.0.1:${portA}`;
    const env = {
      ISSUER: issuer,
      HOST: '127.0.0.1',
      REDIS_URL: redisUrl(),
      DATABASE_URL: database.url,
      REDIS_KEY_PREFIX: `pgwtest:${randomBytes(6).toString('hex')}:`,
      DATA_DIR: dataDir,
      SEED_FILE: join(dir, 'seed.json'),
      PSEUDONYM_MASTER_KEY: master.toString('base64'),
      PSEUDONYM_SCRYPT_N: String(TEST_SCRYPT.N),
      SIGNING_KEYS_RELOAD_S: '1',
      LOG_LEVEL: 'info',
    };
    a = await startInstance(env, portA);
    b = await startInstance(env, portB);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([stop(a), stop(b)]);
    await database?.drop();
  });

  const expectedSub = () =>
    referencePseudonyms({ master, school: '12AB', studentKey: PUPIL.sub, supplier: 'uitgever-b', version: 1, group: '8a', ...TEST_SCRYPT }).sub;

  /** authorize on `first`, the school's answer and the token request on `second`. */
  async function loginAcross(first: Instance, second: Instance) {
    const taal = await TestPublisher.create(issuer, 'taalapp', TAAL_CB, { secret: world.taalSecret });
    const started = await taal.startLogin({ school_hint: '12AB' });
    const toSchool = await get(on(first, started.url));
    expect(toSchool.status).toBe(303);
    const { payload } = await world.regenboog.readLoginRequest(toSchool.headers.get('location')!, { keys: await jwksOf(first) }, issuer);
    const assertion = await world.regenboog.assertion(PUPIL, { nonce: payload.nonce, aud: issuer });
    const back = await postAssertion({ returnTo: on(second, payload.return_to).toString(), cookie: loginCookieOf(toSchool) }, assertion);
    expect(back.status).toBe(303);
    const callback = new URL(back.headers.get('location')!);
    expect(callback.searchParams.get('iss')).toBe(issuer);
    const form = { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: TAAL_CB, code_verifier: started.verifier };
    return expectTokens(await postToken(`${second.url}/token`, form, { authorization: basicAuth('taalapp', world.taalSecret) }));
  }

  it('a login started on one instance completes on the other, both ways; the id_token verifies against either JWKS', async () => {
    for (const [first, second] of [[a, b], [b, a]] as const) {
      const { idToken } = await loginAcross(first, second);
      for (const instance of [a, b]) {
        const { payload } = await jwtVerify(idToken, createLocalJWKSet({ keys: await jwksOf(instance) }), { issuer, audience: 'taalapp' });
        expect(payload.sub).toBe(expectedSub());
      }
    }
  });

  it('a rotation written to the shared key file is published by both instances without a restart', async () => {
    const next = await rotateKeys(dataDir, { now: Date.now(), prepublishS: 3600 });
    const deadline = Date.now() + 15_000;
    const published = async () => (await Promise.all([a, b].map(jwksOf))).every((keys) => keys.some((k) => k.kid === next.kid));
    while (!(await published())) {
      if (Date.now() > deadline) throw new Error('the instances did not publish the next key');
      await new Promise((r) => setTimeout(r, 100));
    }
    // Published, not signing: logins go on with the current key, verifiable against either JWKS.
    const { idToken } = await loginAcross(a, b);
    const { protectedHeader } = await jwtVerify(idToken, createLocalJWKSet({ keys: await jwksOf(a) }), { issuer, audience: 'taalapp' });
    expect(protectedHeader.kid).not.toBe(next.kid);
    expect(a.out.join('') + b.out.join('')).not.toContain('"statusCode":500');
  });
});
