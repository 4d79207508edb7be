import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminCommandError, apiTargetOf, clientSecretThroughApi, listSchoolsThroughApi, operatorTokenThroughApi, type ApiTarget } from '../../src/cli/admin-api.js';
import { createKeySchedule } from '../../src/crypto/key-schedule.js';
import { pupilInput, rootCacheKey } from '../../src/crypto/pseudonym.js';
import { MemoryKv } from '../../src/store/memory-kv.js';
import { PEOPLE } from '../../support/roster-files.js';
import { adminClient } from '../helpers/admin.js';
import { runCli } from '../helpers/cli.js';
import { pgliteTestDb, type TestDb } from '../helpers/db.js';
import { makeWorld, type World } from '../helpers/fixture.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { EMBEDDED_ENV } from '../helpers/env.js';

// The admin CLI through a running gateway's admin API (docs/operations.md):
// the mode that works beside a gateway on the embedded database, the demo's
// included, and the only one that can warm the gateway's own root cache.

const BOOTSTRAP = 'bootstrap-token-0123456789-abcdefghijklmnopqrstuvwxyz';
const SCHOOL = '12AB';
const master = randomBytes(32);
let world: World;
let store: TestDb;
let kv: MemoryKv;
let gateway: TestGateway;
let api: ApiTarget;

beforeAll(async () => {
  world = await makeWorld();
  store = await pgliteTestDb();
  kv = new MemoryKv();
  gateway = await startGateway({ seed: world.seed, db: store.db, kv, masterKey: master, env: { OPERATOR_BOOTSTRAP_TOKEN: BOOTSTRAP, RATE_LIMIT_ADMIN_PER_MIN: '100000' } });
  api = { url: gateway.url, token: BOOTSTRAP };
}, 60_000);
afterAll(async () => {
  await gateway?.close();
  await store?.cleanup();
});

const collect = () => {
  const lines: string[] = [];
  return { lines, out: (line: string) => void lines.push(line) };
};

describe('the admin CLI through the admin API', () => {
  it('takes the API from --api and --token, else from ADMIN_API_URL and ADMIN_TOKEN, and refuses half of it', () => {
    expect(apiTargetOf(['schools', '--api', 'http://gw/', '--token', 't', 'list'], {})).toEqual({ target: { url: 'http://gw', token: 't' }, rest: ['schools', 'list'] });
    expect(apiTargetOf(['list'], { ADMIN_API_URL: 'http://gw', ADMIN_TOKEN: 't' })).toEqual({ target: { url: 'http://gw', token: 't' }, rest: ['list'] });
    expect(apiTargetOf(['list'], {})).toEqual({ rest: ['list'] });
    expect(() => apiTargetOf(['list', '--api', 'http://gw'], {})).toThrow(AdminCommandError);
  });

  it('lists schools, makes an operator token that works, and a new client secret that the token endpoint takes', async () => {
    const schools = collect();
    expect(await listSchoolsThroughApi(api, schools.out)).toBe(0);
    expect(schools.lines.map((l) => l.split('\t')[0])).toEqual(['12AB', '34CD01']);

    const token = collect();
    await operatorTokenThroughApi(api, 'cli test', 7, token.out);
    expect(token.lines[0]).toMatch(/^operator token \S+ \(expires .+\); shown only now:$/);
    expect((await adminClient(gateway.url, token.lines[1]!).get('/operator-tokens')).status).toBe(200);

    const secret = collect();
    await clientSecretThroughApi(api, 'taalapp', secret.out);
    const fresh = /^client taalapp: new secret \(shown only now\): (pgws_\S+)$/.exec(secret.lines[0]!)?.[1];
    expect(fresh).toBeDefined();
    // The new secret authenticates at /token (a grant error, not invalid_client); the old one no longer does.
    const tokenCall = (s: string) => fetch(`${gateway.url}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`taalapp:${s}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=authorization_code&code=nope&redirect_uri=x&code_verifier=x',
    }).then(async (r) => ((await r.json()) as { error: string }).error);
    expect(await tokenCall(fresh!)).toBe('invalid_grant');
    expect(await tokenCall(world.taalSecret)).toBe('invalid_client');

    await expect(clientSecretThroughApi(api, 'rekenapp', collect().out)).rejects.toThrow(/private_key_jwt/);
    await expect(listSchoolsThroughApi({ ...api, token: 'x'.repeat(40) }, collect().out)).rejects.toThrow(/401/);
  });

  it('`roots warm SCHOOL` (the CLI as a process) starts the job, waits for it and leaves every roster root cached', async () => {
    const operator = adminClient(gateway.url, BOOTSTRAP);
    expect((await operator.put(`/schools/${SCHOOL}/roster`, { people: PEOPLE })).status).toBe(200);
    const run = await runCli(['roots', 'warm', SCHOOL, '--api', gateway.url, '--token', BOOTSTRAP], { ...EMBEDDED_ENV });
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    expect(run.out).toContain(`${PEOPLE.length} of ${PEOPLE.length} root(s) warm`);
    const keys = createKeySchedule(master);
    const cached = new Set(kv.keys().filter((k) => k.startsWith('root:')).map((k) => k.slice('root:'.length)));
    for (const p of PEOPLE) expect(cached).toContain(rootCacheKey(keys, pupilInput(SCHOOL, p.studentKey)));
    // Without an API it says where the job runs.
    const direct = await runCli(['roots', 'warm', SCHOOL], { ...EMBEDDED_ENV, ADMIN_API_URL: '', ADMIN_TOKEN: '' });
    expect(direct.code).toBe(1);
    expect(direct.err).toContain('--api URL --token TOKEN');
  }, 120_000);
});
