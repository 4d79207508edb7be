import { randomBytes, randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireAccessRules, type AdminRoute } from '../../src/admin/auth.js';
import { insertDisclosures } from '../../src/privacy/disclosures.js';
import { adminCall, adminClient } from '../helpers/admin.js';
import { TestClock } from '../helpers/clock.js';
import { pgliteTestDb, type TestDb } from '../helpers/db.js';
import { makeWorld, type World } from '../helpers/fixture.js';
import { waitForJob } from '../helpers/resolution.js';
import { startGateway, TEST_SCRYPT, type TestGateway } from '../helpers/gateway.js';
import { referenceRefs } from '../helpers/reference-pseudonym.js';

// the README's Admin API: a school admin reads and changes only its own school.
// This walks every admin route the app registered (a route added later is
// walked too) and proves, for each, that school A's token gets for school B's
// resources exactly what it gets for resources that do not exist, that B's data
// is unchanged afterwards, and that revoked and expired tokens are refused.

const BOOTSTRAP = 'bootstrap-token-0123456789-abcdefghijklmnopqrstuvwxyz';
const A = '12AB';
const B = '34CD01';
/** A pupil of school B with a ledger row and an objection: what a pupil route must not reach from A. */
const B_PUPIL = 'leerling-van-b';

describe('admin access matrix', () => {
  let world: World;
  let store: TestDb;
  let gateway: TestGateway;
  let routes: AdminRoute[];
  const clock = new TestClock();
  const tokens = { a: '', revoked: '', expiring: '' };
  const ids = { aLicence: '', bLicence: '', bToken: '', operatorToken: '', aObjection: '', bObjection: '', aJob: '', bJob: '', aBreachJob: '', bBreachJob: '', aImport: '', bImport: '', aWarmJob: '', bWarmJob: '' };
  const master = randomBytes(32);

  beforeAll(async () => {
    world = await makeWorld();
    store = await pgliteTestDb();
    gateway = await startGateway({ seed: world.seed, db: store.db, clock, masterKey: master, env: { OPERATOR_BOOTSTRAP_TOKEN: BOOTSTRAP, RATE_LIMIT_ADMIN_PER_MIN: '100000' } });
    routes = (gateway.app.adminRoutes ?? []).filter((r) => r.method !== 'HEAD');
    const operator = adminClient(gateway.url, BOOTSTRAP);
    const token = async (path: string, body: object) => (await operator.post(path, body)).body as { id: string; token: string };
    tokens.a = (await token(`/schools/${A}/tokens`, { label: 'a' })).token;
    const revoked = await token(`/schools/${A}/tokens`, { label: 'revoked' });
    tokens.revoked = revoked.token;
    expect((await operator.delete(`/schools/${A}/tokens/${revoked.id}`)).status).toBe(204);
    tokens.expiring = (await token(`/schools/${A}/tokens`, { label: 'expiring', expiresInDays: 1 })).token;
    ids.bToken = (await token(`/schools/${B}/tokens`, { label: 'b' })).id;
    ids.operatorToken = (await token('/operator-tokens', { label: 'op' })).id;
    const licences = async (school: string) => (await operator.get(`/schools/${school}/licences`)).body.items as { id: string }[];
    ids.aLicence = (await licences(A))[0]!.id;
    ids.bLicence = (await licences(B))[0]!.id;
    const objection = async (school: string) => (await operator.post(`/schools/${school}/objections`, { studentKey: B_PUPIL, client: 'taalapp' })).body as { id: string };
    ids.aObjection = (await objection(A)).id;
    ids.bObjection = (await objection(B)).id;
    const { ref } = referenceRefs({ master, school: B, studentKey: B_PUPIL, ...TEST_SCRYPT });
    await insertDisclosures(store.db, [{ school: B, studentRef: ref, client: 'taalapp', supplier: 'uitgever-b', claims: ['school'], day: '2026-01-05', count: 1 }]);
    // A finished pseudonym job of each school (its result is readable).
    for (const [school, key] of [[A, 'aJob'], [B, 'bJob']] as const) {
      ids[key] = (await operator.post(`/schools/${school}/pseudonym-jobs`, { supplier: 'uitgever-b', studentKeys: ['leerling-1'] })).body.id;
      await waitForJob(operator, `/schools/${school}/pseudonym-jobs/${ids[key]}`);
    }
    for (const [school, key] of [[A, 'aBreachJob'], [B, 'bBreachJob']] as const) {
      ids[key] = (await operator.post(`/schools/${school}/breach-scope-jobs`, { client: 'taalapp', from: '2026-01-01', until: '2026-01-31', studentKeys: [B_PUPIL] })).body.id;
      await waitForJob(operator, `/schools/${school}/breach-scope-jobs/${ids[key]}`);
    }
    // A roster of each school, imported (its import record is readable), and its roots warmed (a job).
    for (const [school, key] of [[A, 'aImport'], [B, 'bImport']] as const) {
      const person = { studentKey: `${school}-roster-pupil`, logins: [`${school}@school.example`], role: 'student', given_name: 'Roster' };
      ids[key] = (await operator.put(`/schools/${school}/roster`, { people: [person] })).body.id;
    }
    for (const [school, key] of [[A, 'aWarmJob'], [B, 'bWarmJob']] as const) {
      ids[key] = (await operator.post(`/schools/${school}/roster/warm-roots`, {})).body.id;
      await waitForJob(operator, `/schools/${school}/roster/warm-roots/${ids[key]}`);
    }
  }, 60_000);
  afterAll(async () => {
    await gateway?.close();
    await store?.cleanup();
  });

  /** A path for the route, naming either school B's resources or resources that do not exist. */
  function pathFor(route: AdminRoute, target: 'b' | 'missing' | 'a'): string {
    const values: Record<string, Record<string, string>> = {
      a: { schoolId: A, licenceId: ids.aLicence, tokenId: randomUUID(), clientId: 'rekenapp', supplierId: 'uitgever-a', objectionId: ids.aObjection, jobId: ids.aJob, importId: ids.aImport },
      b: { schoolId: B, licenceId: ids.bLicence, tokenId: ids.bToken, clientId: 'taalapp', supplierId: 'uitgever-b', objectionId: ids.bObjection, jobId: ids.bJob, importId: ids.bImport },
      missing: { schoolId: '99ZZ', licenceId: randomUUID(), tokenId: randomUUID(), clientId: 'no-such-client', supplierId: 'no-such-supplier', objectionId: randomUUID(), jobId: randomUUID(), importId: randomUUID() },
    };
    if (route.url.startsWith('/admin/v1/operator-tokens/')) values.b!.tokenId = ids.operatorToken;
    if (route.url.includes('/breach-scope-jobs/')) {
      values.a!.jobId = ids.aBreachJob;
      values.b!.jobId = ids.bBreachJob;
    }
    if (route.url.includes('/warm-roots/')) {
      values.a!.jobId = ids.aWarmJob;
      values.b!.jobId = ids.bWarmJob;
    }
    return route.url.replace('/admin/v1', '').replace(/:([A-Za-z]+)/g, (_m, name: string) => {
      const value = values[target]![name];
      if (!value) throw new Error(`no test value for :${name} in ${route.url}: extend the access matrix`);
      return value;
    });
  }

  /** A body the route would accept, where one test body fits: a route that forgot the school scope would act on B. */
  const bodyFor = (route: AdminRoute): unknown => {
    if (route.method !== 'POST' && route.method !== 'PUT' && route.method !== 'PATCH') return undefined;
    if (route.url.includes('/pupils/')) return { studentKey: B_PUPIL };
    // An empty roster (a full sync would remove all of B's people) and a delta removing B's pupil.
    if (route.url.endsWith('/roster')) return route.method === 'PUT' ? { people: [] } : { remove: [`${B}-roster-pupil`] };
    if (route.url.endsWith('/objections')) return { studentKey: `${B_PUPIL}-2`, client: 'taalapp' };
    return { client: 'taalapp', claims: ['school'], label: 'x', id: B, name: 'x' };
  };

  const snapshotOfB = async () => {
    const rows = await store.db.query<{ t: string }>(
      `SELECT (SELECT json_agg(doc ORDER BY id) FROM licences WHERE school_id = $1)::text
        || (SELECT doc::text FROM schools WHERE id = $1)
        || (SELECT json_agg(revoked_at ORDER BY id) FROM admin_tokens WHERE school_id = $1 OR school_id IS NULL)::text
        || (SELECT count(*) FROM audit_events WHERE school_id = $1)::text
        || coalesce((SELECT json_agg(id ORDER BY id) FROM objections WHERE school_id = $1)::text, '[]')
        || coalesce((SELECT json_agg(d ORDER BY day) FROM disclosures d WHERE school_id = $1)::text, '[]')
        || coalesce((SELECT json_agg(r ORDER BY key_hash) FROM roster_people r WHERE school_id = $1)::text, '[]')
        || coalesce((SELECT json_agg(l ORDER BY login_hash) FROM roster_logins l WHERE school_id = $1)::text, '[]')
        || coalesce((SELECT json_agg(i ORDER BY id) FROM roster_imports i WHERE school_id = $1)::text, '[]')
        || (SELECT json_agg(doc ORDER BY id) FROM clients)::text || (SELECT json_agg(doc ORDER BY id) FROM suppliers)::text AS t`,
      [B],
    );
    return rows[0]!.t;
  };

  it('walks a complete list of admin routes, each with an access rule', () => {
    expect(routes.length).toBeGreaterThanOrEqual(25);
    expect(routes.filter((r) => r.access === 'public').map((r) => r.url)).toEqual(['/admin/v1/openapi.json']);
    expect(routes.filter((r) => r.access === 'school').length).toBeGreaterThanOrEqual(7);
    expect(routes.filter((r) => r.url.includes('/roster')).map((r) => `${r.method} ${r.url}`).sort()).toEqual([
      'GET /admin/v1/schools/:schoolId/roster', 'GET /admin/v1/schools/:schoolId/roster/imports/:importId',
      'GET /admin/v1/schools/:schoolId/roster/warm-roots/:jobId',
      'PATCH /admin/v1/schools/:schoolId/roster', 'POST /admin/v1/schools/:schoolId/roster/warm-roots', 'PUT /admin/v1/schools/:schoolId/roster',
    ]);
  });

  it("gives school A's token, on every route, for school B's resources exactly what it gives for missing ones, and changes nothing of B", async () => {
    const before = await snapshotOfB();
    for (const route of routes.filter((r) => r.access !== 'public')) {
      const label = `${route.method} ${route.url}`;
      const onB = await adminCall(gateway.url, tokens.a, route.method, pathFor(route, 'b'), bodyFor(route));
      const onMissing = await adminCall(gateway.url, tokens.a, route.method, pathFor(route, 'missing'), bodyFor(route));
      expect({ label, status: onB.status }).toEqual({ label, status: route.access === 'school' ? 404 : 403 });
      expect({ label, body: onB.text }).toEqual({ label, body: onMissing.text });
      expect({ label, status: onMissing.status }).toEqual({ label, status: onB.status });
    }
    expect(await snapshotOfB()).toBe(before);
  });

  it("lets school A's token read its own school on every school read route (the refusals above are not blanket)", async () => {
    for (const route of routes.filter((r) => r.access === 'school' && r.method === 'GET')) {
      const own = await adminCall(gateway.url, tokens.a, 'GET', pathFor(route, 'a'));
      expect({ route: route.url, status: own.status }).toEqual({ route: route.url, status: 200 });
    }
  });

  it('refuses revoked and expired tokens on every route with the one 401 of an unknown token', async () => {
    const unknown = await adminCall(gateway.url, 'pgwa_unknown', 'GET', `/schools/${A}/licences`);
    expect(unknown.status).toBe(401);
    clock.advance(2 * 86_400_000);
    try {
      for (const route of routes.filter((r) => r.access !== 'public')) {
        for (const token of [tokens.revoked, tokens.expiring]) {
          const res = await adminCall(gateway.url, token, route.method, pathFor(route, 'a'), bodyFor(route));
          expect({ route: `${route.method} ${route.url}`, status: res.status, body: res.text }).toEqual({ route: `${route.method} ${route.url}`, status: 401, body: unknown.text });
        }
      }
    } finally {
      clock.advance(-2 * 86_400_000);
    }
    // The expiring token worked before its expiry: the refusal above came from the expiry.
    expect((await adminCall(gateway.url, tokens.expiring, 'GET', `/schools/${A}/licences`)).status).toBe(200);
  });

  it('refuses to register an admin route that declares no access rule', async () => {
    const app = Fastify();
    const build = async () => {
      await app.register(async (scope) => {
        requireAccessRules(scope, '/admin/v1', []);
        scope.get('/unchecked', () => 'x');
      }, { prefix: '/admin/v1' });
      await app.ready();
    };
    await expect(build()).rejects.toThrow(/GET \/admin\/v1\/unchecked declares no access rule/);
    await app.close();
  });
});
