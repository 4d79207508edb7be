import type * as nodeCrypto from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { constantEqual } from '../../src/crypto/tokens.js';
import { adminClient } from '../helpers/admin.js';
import { pgliteTestDb, type TestDb } from '../helpers/db.js';
import { makeWorld, PUPIL, TAAL_CB, type World } from '../helpers/fixture.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { TestPublisher } from '../helpers/publisher.js';
import { basicAuth, call, clientAssertion, codeForm, expectTokenError, expectTokens, issueCode, JWT_BEARER, postToken } from '../helpers/token-userinfo-requests.js';

// Secrets, verifiers and tokens are compared with node:crypto's
// timingSafeEqual, through one helper (src/crypto/tokens.ts constantEqual):
// the helper is checked to call it, every comparison of a client secret, a
// PKCE verifier, the metrics token and the bootstrap token is counted through
// the front door, and no other module of src/ reaches timingSafeEqual itself.

const calls = vi.hoisted(() => ({ lengths: [] as [number, number][] }));
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof nodeCrypto>();
  return {
    ...actual,
    timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      calls.lengths.push([a.byteLength, b.byteLength]);
      return actual.timingSafeEqual(a, b);
    },
  };
});

/** How many timingSafeEqual calls `run` made. */
async function comparisonsIn(run: () => Promise<unknown>): Promise<number> {
  const before = calls.lengths.length;
  await run();
  return calls.lengths.length - before;
}

const METRICS_TOKEN = 'metrics-token-0123456789-abcdefghijklmnop';
const BOOTSTRAP = 'bootstrap-token-0123456789-abcdefghijklmnop';

let world: World;
let store: TestDb;
let gateway: TestGateway;

beforeAll(async () => {
  world = await makeWorld();
  store = await pgliteTestDb();
  gateway = await startGateway({ seed: world.seed, db: store.db, env: { METRICS_TOKEN, OPERATOR_BOOTSTRAP_TOKEN: BOOTSTRAP } });
}, 60_000);
afterAll(async () => {
  await gateway?.close();
  await store?.cleanup();
});

describe('constantEqual', () => {
  it('compares fixed-length digests with timingSafeEqual, whatever the input lengths', async () => {
    for (const [a, b, equal] of [['same', 'same', true], ['short', 'a much longer value', false], ['', 'x', false], [Buffer.from([1, 2]), Buffer.from([1, 2]), true]] as const) {
      const before = calls.lengths.length;
      expect(constantEqual(a, b)).toBe(equal);
      expect(calls.lengths.slice(before)).toEqual([[32, 32]]);
    }
  });
});

describe('comparisons through the front door', () => {
  const tokenUrl = () => `${gateway.url}/token`;

  it('client_secret_basic: the secret in both forms (as sent, form-decoded), and the PKCE verifier', async () => {
    const taal = await TestPublisher.create(gateway.url, 'taalapp', TAAL_CB, { secret: world.taalSecret });
    const issued = await issueCode(gateway, world.regenboog, taal, PUPIL);
    expect(await comparisonsIn(async () => expectTokens(await postToken(tokenUrl(), codeForm(issued), { authorization: basicAuth('taalapp', world.taalSecret) })))).toBe(3);
  });

  it('a wrong secret, and a client that does not exist, cost the same two comparisons', async () => {
    for (const id of ['taalapp', 'nosuchapp']) {
      const n = await comparisonsIn(async () => expectTokenError(await postToken(tokenUrl(), { grant_type: 'authorization_code', code: 'x' }, { authorization: basicAuth(id, 'wrong-secret-0123456789-abcdefghijkl') }), 401, 'invalid_client'));
      expect({ id, n }).toEqual({ id, n: 2 });
    }
  });

  it('private_key_jwt: no secret, one PKCE comparison; a wrong verifier is compared too', async () => {
    const reken = await TestPublisher.create(gateway.url, 'rekenapp', 'https://rekenapp.example/cb', { key: world.rekenKey });
    const auth = async () => ({ client_assertion_type: JWT_BEARER, client_assertion: await clientAssertion(world.rekenKey, 'rekenapp', { aud: gateway.url }) });
    const good = await issueCode(gateway, world.regenboog, reken, PUPIL);
    expect(await comparisonsIn(async () => expectTokens(await postToken(tokenUrl(), { ...codeForm(good), ...(await auth()) })))).toBe(1);
    const bad = await issueCode(gateway, world.regenboog, reken, PUPIL);
    const wrongVerifier = { ...codeForm(bad), code_verifier: 'w'.repeat(43) };
    expect(await comparisonsIn(async () => expectTokenError(await postToken(tokenUrl(), { ...wrongVerifier, ...(await auth()) }), 400, 'invalid_grant'))).toBe(1);
  });

  it('the metrics token on the main port', async () => {
    const ok = await comparisonsIn(async () => expect((await call(`${gateway.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status).toBe(200));
    const wrong = await comparisonsIn(async () => expect((await call(`${gateway.url}/metrics`, { headers: { authorization: 'Bearer not-the-metrics-token' } })).status).toBe(401));
    expect({ ok, wrong }).toEqual({ ok: 1, wrong: 1 });
  });

  it('the bootstrap operator token of the admin API', async () => {
    const ok = await comparisonsIn(async () => expect((await adminClient(gateway.url, BOOTSTRAP).get('/schools')).status).toBe(200));
    const wrong = await comparisonsIn(async () => expect((await adminClient(gateway.url, 'pgwa_not-a-token').get('/schools')).status).toBe(401));
    expect({ ok, wrong }).toEqual({ ok: 1, wrong: 1 });
  });
});

describe('one helper', () => {
  it('no module of src/ but src/crypto/tokens.ts uses timingSafeEqual itself', () => {
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
    const users = files('src').filter((f) => readFileSync(f, 'utf8').includes('timingSafeEqual'));
    expect(users).toEqual([join('src', 'crypto', 'tokens.ts')]);
  });
});
