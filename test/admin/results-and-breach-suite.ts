import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertDisclosures } from '../../src/privacy/disclosures.js';
import { schoolDay } from '../../src/release/licence.js';
import type { MemoryKv } from '../../src/store/memory-kv.js';
import { adminClient, type AdminClient } from '../helpers/admin.js';
import { fullLogin } from '../helpers/browser.js';
import { TestClock } from '../helpers/clock.js';
import type { TestDb } from '../helpers/db.js';
import { LEES_CB, makeWorld, REKEN_CB, TAAL_CB, type World } from '../helpers/fixture.js';
import { startGateway, TEST_SCRYPT, type TestGateway } from '../helpers/gateway.js';
import { TestPublisher } from '../helpers/publisher.js';
import { referencePseudonyms, referenceRefs } from '../helpers/reference-pseudonym.js';
import { keysFoundInTables, waitForJob } from '../helpers/resolution.js';
import type { PupilClaims } from '../helpers/test-school.js';

// Results back to pupils and breach scope through the admin API, after real
// logins (openid-client publishers), run once per database adapter.

const BOOTSTRAP = 'bootstrap-token-0123456789-abcdefghijklmnopqrstuvwxyz';
const PROBLEM = 'urn:pgw:problem:';
const JOBS = '/schools/12AB/pseudonym-jobs';
const BREACH_JOBS = '/schools/12AB/breach-scope-jobs';
const DAY_MS = 86_400_000;

/** Pupil keys no other test uses, so finding one anywhere means this test leaked it. */
const secretKey = (name: string) => `geheim-${name}-${randomBytes(6).toString('hex')}`;
const pupil = (sub: string): PupilClaims => ({ sub, given_name: 'Sam', groups: [{ key: '8a', name: 'Groep 8A', grade: 8 }] });

export function defineResultsAndBreachSuite(makeDb: () => Promise<TestDb>) {
  const master = randomBytes(32);
  const clock = new TestClock();
  const p = { reken: secretKey('reken'), lees: secretKey('lees'), taal: secretKey('taal'), old: secretKey('old'), never: secretKey('never'), klimop: secretKey('klimop') };
  let world: World;
  let store: TestDb;
  let gateway: TestGateway;
  let operator: AdminClient;
  let schoolA: AdminClient;
  let schoolB: AdminClient;
  let rekenLogin: Awaited<ReturnType<typeof fullLogin>>;
  let taalSub: string;
  let today: string;
  let earlier: string;
  let before: string;

  beforeAll(async () => {
    world = await makeWorld();
    store = await makeDb();
    gateway = await startGateway({ seed: world.seed, db: store.db, clock, masterKey: master, env: { OPERATOR_BOOTSTRAP_TOKEN: BOOTSTRAP, RATE_LIMIT_ADMIN_PER_MIN: '100000' } });
    operator = adminClient(gateway.url, BOOTSTRAP);
    const token = async (school: string) => (await operator.post(`/schools/${school}/tokens`, { label: `admin ${school}` })).body.token as string;
    schoolA = adminClient(gateway.url, await token('12AB'));
    schoolB = adminClient(gateway.url, await token('34CD01'));
    const reken = await TestPublisher.create(gateway.url, 'rekenapp', REKEN_CB, { key: world.rekenKey });
    const lees = await TestPublisher.create(gateway.url, 'leesapp', LEES_CB, { key: world.leesKey });
    const taal = await TestPublisher.create(gateway.url, 'taalapp', TAAL_CB, { secret: world.taalSecret });
    rekenLogin = await fullLogin(gateway, world.regenboog, reken, pupil(p.reken));
    await fullLogin(gateway, world.regenboog, lees, pupil(p.lees));
    taalSub = (await fullLogin(gateway, world.regenboog, taal, pupil(p.reken))).claims.sub;
    await fullLogin(gateway, world.regenboog, taal, pupil(p.taal));
    await fullLogin(gateway, world.klimop, taal, pupil(p.klimop));
    today = schoolDay(clock.now());
    // Releases weeks before the period asked about (logins then), within the ledger's retention.
    earlier = schoolDay(clock.now() - 60 * DAY_MS);
    before = schoolDay(clock.now() - 90 * DAY_MS);
    await insertDisclosures(store.db, [{ school: '12AB', studentRef: referenceRefs({ master, school: '12AB', studentKey: p.old, ...TEST_SCRYPT }).ref, client: 'rekenapp', supplier: 'uitgever-a', claims: ['grade', 'school'], day: earlier, count: 1 }]);
  }, 60_000);
  afterAll(async () => {
    await gateway?.close();
    await store?.cleanup();
  });

  const startJob = async (client: AdminClient, body: object) => {
    const res = await client.post(JOBS, body);
    expect(res.status).toBe(202);
    return res;
  };

  describe('results back to pupils (pseudonym jobs)', () => {
    it("resolves to exactly the sub and the group pseudonyms the publisher received, at each supplier, in input order", async () => {
      const roster = [p.never, p.reken, p.lees];
      const started = await startJob(schoolA, { supplier: 'uitgever-a', studentKeys: roster, groupKeys: ['8b', '8a'] });
      expect(started.headers.get('location')).toBe(`/admin/v1${JOBS}/${started.body.id}`);
      expect(started.body).toEqual({ id: expect.any(String), status: 'running', total: 3, done: 0 });
      const job = await waitForJob(schoolA, started.headers.get('location')!.replace('/admin/v1', ''));
      expect(job).toEqual({ id: started.body.id, supplier: 'uitgever-a', keyVersion: 1, status: 'done', total: 3, done: 3, startedAt: expect.any(String), finishedAt: expect.any(String) });

      const result = await schoolA.get(`${JOBS}/${started.body.id}/result`);
      expect(result.status).toBe(200);
      expect(result.body.students[1]).toEqual({ position: 1, sub: rekenLogin.claims.sub });
      expect(result.body.groups[1]).toEqual({ position: 1, pseudonym: (rekenLogin.claims.groups as string[])[0] });
      // Every position against the independent implementation of docs/pseudonyms.md.
      const reference = (studentKey: string, group: string) => referencePseudonyms({ master, school: '12AB', studentKey, supplier: 'uitgever-a', version: 1, group, ...TEST_SCRYPT });
      expect(result.body).toEqual({
        supplier: 'uitgever-a',
        keyVersion: 1,
        students: roster.map((key, position) => ({ position, sub: reference(key, '8a').sub })),
        groups: ['8b', '8a'].map((group, position) => ({ position, pseudonym: reference(p.never, group).group })),
      });

      // Another supplier: the sub its own product received, and not uitgever-a's.
      const atB = await startJob(schoolA, { supplier: 'uitgever-b', studentKeys: [p.reken] });
      await waitForJob(schoolA, `${JOBS}/${atB.body.id}`);
      const resultB = await schoolA.get(`${JOBS}/${atB.body.id}/result`);
      expect(resultB.body.students).toEqual([{ position: 0, sub: taalSub }]);
      expect(taalSub).not.toBe(rekenLogin.claims.sub);
    });

    it('keeps the order of the request, duplicates included', async () => {
      const roster = Array.from({ length: 40 }, (_, i) => `orde-${i}`);
      const forward = await startJob(schoolA, { supplier: 'uitgever-a', studentKeys: [...roster, roster[3]] });
      const backward = await startJob(schoolA, { supplier: 'uitgever-a', studentKeys: [...roster].reverse() });
      for (const id of [forward.body.id, backward.body.id]) await waitForJob(schoolA, `${JOBS}/${id}`);
      const subs = async (id: string) => ((await schoolA.get(`${JOBS}/${id}/result`)).body.students as { position: number; sub: string }[]);
      const f = await subs(forward.body.id);
      const b = await subs(backward.body.id);
      expect(f.map((s) => s.position)).toEqual([...Array(41).keys()]);
      expect(new Set(f.map((s) => s.sub)).size).toBe(40);
      expect(f[40]!.sub).toBe(f[3]!.sub);
      expect(b.map((s) => s.sub)).toEqual(f.slice(0, 40).map((s) => s.sub).reverse());
    });

    it('reports progress from running to done, and refuses the result while running (409)', async () => {
      const roster = Array.from({ length: 600 }, (_, i) => `voortgang-${i}-${randomBytes(4).toString('hex')}`);
      const started = await startJob(schoolA, { supplier: 'uitgever-a', studentKeys: roster });
      const first = await schoolA.get(`${JOBS}/${started.body.id}`);
      expect(first.body).toMatchObject({ status: 'running', total: 600 });
      const early = await schoolA.get(`${JOBS}/${started.body.id}/result`);
      expect(early.status).toBe(409);
      expect(early.body).toMatchObject({ type: `${PROBLEM}job_running`, status: 409 });
      const seen: number[] = [first.body.done];
      const done = await waitForJob(schoolA, `${JOBS}/${started.body.id}`, (job) => seen.push(job.done));
      expect(done).toMatchObject({ status: 'done', total: 600, done: 600 });
      expect(seen).toEqual([...seen].sort((x, y) => x - y));
      expect(seen[0]).toBeLessThan(600);
    });

    it('serves the result as CSV with Dutch-first headers and a byte-order mark', async () => {
      const started = await startJob(schoolA, { supplier: 'uitgever-a', studentKeys: [p.never, p.reken], groupKeys: ['8a'] });
      await waitForJob(schoolA, `${JOBS}/${started.body.id}`);
      const json = (await schoolA.get(`${JOBS}/${started.body.id}/result`)).body;
      for (const ask of [{ query: '?format=csv', accept: '*/*' }, { query: '', accept: 'text/csv' }]) {
        const res = await fetch(`${gateway.url}/admin/v1${JOBS}/${started.body.id}/result${ask.query}`, { headers: { authorization: `Bearer ${BOOTSTRAP}`, accept: ask.accept } });
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
        expect(res.headers.get('content-disposition')).toBe(`attachment; filename="pseudoniemen-uitgever-a-${started.body.id}.csv"`);
        const bytes = Buffer.from(await res.arrayBuffer());
        expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
        expect(bytes.subarray(3).toString('utf8')).toBe(
          'Soort (kind);Positie (position);Pseudoniem (pseudonym)\r\n'
          + `leerling (student);0;${json.students[0].sub}\r\nleerling (student);1;${rekenLogin.claims.sub}\r\n`
          + `groep (group);0;${(rekenLogin.claims.groups as string[])[0]}\r\n`,
        );
      }
    });

    it("gives another school's admin exactly the 404 of a missing job", async () => {
      const started = await startJob(schoolA, { supplier: 'uitgever-a', studentKeys: [p.reken] });
      await waitForJob(schoolA, `${JOBS}/${started.body.id}`);
      const missing = await schoolB.get(`/schools/34CD01/pseudonym-jobs/${randomUUID()}`);
      for (const path of [`/schools/34CD01/pseudonym-jobs/${started.body.id}`, `/schools/34CD01/pseudonym-jobs/${started.body.id}/result`, `${JOBS}/${started.body.id}`, `${JOBS}/${started.body.id}/result`]) {
        const res = await schoolB.get(path);
        expect({ path, status: res.status, body: res.text }).toEqual({ path, status: 404, body: missing.text });
      }
      expect((await schoolA.get(`${JOBS}/${started.body.id}/result`)).status).toBe(200);
    });

    it('leaves no student key in the KV, in any table or in the logs, and audits the job without one', async () => {
      const roster = [p.reken, p.never, p.old];
      const started = await startJob(schoolA, { supplier: 'uitgever-a', studentKeys: roster, groupKeys: ['8a'] });
      await waitForJob(schoolA, `${JOBS}/${started.body.id}`);
      expect((await schoolA.get(`${JOBS}/${started.body.id}/result`)).status).toBe(200);
      const kv = gateway.kv as MemoryKv;
      const entries = await Promise.all(kv.keys().map(async (k) => `${k}=${await kv.get(k)}`));
      // The job's state and result are there: the scan looks where they are.
      expect(entries.some((e) => e.startsWith(`resjob:${started.body.id}=`))).toBe(true);
      for (const key of Object.values(p)) {
        expect(entries.filter((e) => e.includes(key))).toEqual([]);
        expect(await keysFoundInTables(store.db, key)).toEqual([]);
        expect(gateway.logs.filter((l) => l.includes(key))).toEqual([]);
      }
      const audit = await schoolA.get('/schools/12AB/audit-events?limit=200');
      const event = audit.body.items.find((e: { target: string }) => e.target === `pseudonym-job:${started.body.id}`);
      expect(event).toMatchObject({ action: 'pseudonym-job.create', school: '12AB', after: { supplier: 'uitgever-a', keyVersion: 1, students: 3, groups: 1 } });
    });

    it('refuses bad input with problems: too many keys, bad keys, an unknown supplier, an oversized body, a missing job', async () => {
      const tooMany = await schoolA.post(JOBS, { supplier: 'uitgever-a', studentKeys: Array.from({ length: 50_001 }, (_, i) => `k${i}`) });
      expect(tooMany.status).toBe(400);
      expect(tooMany.body).toMatchObject({ type: `${PROBLEM}invalid_request`, errors: [{ field: 'studentKeys' }] });
      const groups = await schoolA.post(JOBS, { supplier: 'uitgever-a', studentKeys: ['a'], groupKeys: Array.from({ length: 5_001 }, (_, i) => `g${i}`) });
      expect(groups.body.errors).toEqual([expect.objectContaining({ field: 'groupKeys' })]);
      for (const [studentKeys, field] of [[[], 'studentKeys'], [['ok', 'a\u0000b'], 'studentKeys.1'], [['x'.repeat(129)], 'studentKeys.0']] as const) {
        const res = await schoolA.post(JOBS, { supplier: 'uitgever-a', studentKeys });
        expect({ status: res.status, fields: res.body.errors.map((e: { field: string }) => e.field) }).toEqual({ status: 400, fields: [field] });
      }
      const unknown = await schoolA.post(JOBS, { supplier: 'niemand', studentKeys: ['a'] });
      expect(unknown.status).toBe(422);
      expect(unknown.body).toMatchObject({ type: `${PROBLEM}unknown_reference`, errors: [{ field: 'supplier', detail: 'no such supplier' }] });
      const huge = await schoolA.post(JOBS, { supplier: 'uitgever-a', studentKeys: Array.from({ length: 50_000 }, () => 'x'.repeat(170)) });
      expect(huge.status).toBe(413);
      expect(huge.body.type).toBe(`${PROBLEM}invalid_request`);
      // Without a valid token the body is never read: 401, whatever its size.
      const anonymous = await adminClient(gateway.url, 'pgwa_wrong').post(JOBS, { supplier: 'uitgever-a', studentKeys: Array.from({ length: 50_000 }, () => 'x'.repeat(170)) });
      expect(anonymous.status).toBe(401);
      expect((await schoolA.get(`${JOBS}/00000000-0000-4000-8000-000000000000`)).status).toBe(404);
      expect((await schoolA.get(`${JOBS}/not-a-uuid`)).body.errors).toEqual([expect.objectContaining({ field: 'params.jobId' })]);
    });

    it('runs at most two jobs at once per process (503 jobs_busy with Retry-After), then accepts again', async () => {
      const big = (tag: string) => Array.from({ length: 600 }, (_, i) => `${tag}-${i}-${randomBytes(4).toString('hex')}`);
      const one = await startJob(schoolA, { supplier: 'uitgever-a', studentKeys: big('een') });
      const two = await startJob(schoolA, { supplier: 'uitgever-a', studentKeys: big('twee') });
      const three = await schoolA.post(JOBS, { supplier: 'uitgever-a', studentKeys: ['drie'] });
      expect(three.status).toBe(503);
      expect(three.headers.get('retry-after')).toBe('30');
      expect(three.body).toMatchObject({ type: `${PROBLEM}jobs_busy`, status: 503 });
      for (const id of [one.body.id, two.body.id]) await waitForJob(schoolA, `${JOBS}/${id}`);
      await startJob(schoolA, { supplier: 'uitgever-a', studentKeys: ['drie'] });
    }, 60_000);
  });

  describe('breach scope', () => {
    const breach = (client: AdminClient, body: object) => client.post('/schools/12AB/breach-scope', body);
    const roster = () => [p.never, p.taal, p.lees, p.old, p.reken];

    it('lists exactly the pupils on the roster with disclosures at the supplier in the period, in roster order', async () => {
      const res = await breach(schoolA, { supplier: 'uitgever-a', from: today, until: today, studentKeys: roster() });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        affected: [
          { studentKey: p.lees, clients: ['leesapp'], claims: ['grade'], firstDay: today, lastDay: today },
          { studentKey: p.reken, clients: ['rekenapp'], claims: ['grade', 'group_names', 'groups', 'school'], firstDay: today, lastDay: today },
        ],
        rosterSize: 5,
        affectedCount: 2,
      });
      // The period decides: the old release is found in its own period, and only it.
      const old = await breach(schoolA, { supplier: 'uitgever-a', from: before, until: earlier, studentKeys: roster() });
      expect(old.body).toEqual({ affected: [{ studentKey: p.old, clients: ['rekenapp'], claims: ['grade', 'school'], firstDay: earlier, lastDay: earlier }], rosterSize: 5, affectedCount: 1 });
    });

    it('narrows to one client, and names the other supplier’s pupils only there', async () => {
      const reken = await breach(schoolA, { client: 'rekenapp', from: earlier, until: today, studentKeys: roster() });
      expect(reken.body.affected.map((a: { studentKey: string }) => a.studentKey)).toEqual([p.old, p.reken]);
      const taal = await breach(schoolA, { supplier: 'uitgever-b', from: today, until: today, studentKeys: roster() });
      expect(taal.body.affected).toEqual([
        { studentKey: p.taal, clients: ['taalapp'], claims: ['given_name', 'role', 'school'], firstDay: today, lastDay: today },
        { studentKey: p.reken, clients: ['taalapp'], claims: ['given_name', 'role', 'school'], firstDay: today, lastDay: today },
      ]);
      // Another school's pupil key on 12AB's roster is a different pupil (the ref includes the school).
      const other = await breach(schoolA, { supplier: 'uitgever-b', from: today, until: today, studentKeys: [p.klimop] });
      expect(other.body).toEqual({ affected: [], rosterSize: 1, affectedCount: 0 });
    });

    it('gives the operator counts per school', async () => {
      const b = await operator.get(`/breach-scope?supplier=uitgever-b&from=${today}&until=${today}`);
      expect(b.status).toBe(200);
      expect(b.body).toEqual({
        schools: [{ school: '12AB', pupils: 2, claims: ['given_name', 'role', 'school'] }, { school: '34CD01', pupils: 1, claims: ['school'] }],
        totalPupils: 3,
      });
      const a = await operator.get(`/breach-scope?supplier=uitgever-a&from=${earlier}&until=${today}`);
      expect(a.body).toEqual({ schools: [{ school: '12AB', pupils: 3, claims: ['grade', 'group_names', 'groups', 'school'] }], totalPupils: 3 });
      const lees = await operator.get(`/breach-scope?client=leesapp&from=${today}&until=${today}`);
      expect(lees.body).toEqual({ schools: [{ school: '12AB', pupils: 1, claims: ['grade'] }], totalPupils: 1 });
      expect((await schoolA.get(`/breach-scope?supplier=uitgever-b&from=${today}&until=${today}`)).status).toBe(403);
    });

    it('refuses bad input with problems: both targets, none, a reversed period, an unknown supplier, too many keys', async () => {
      const base = { from: today, until: today, studentKeys: [p.reken] };
      const both = await breach(schoolA, { ...base, supplier: 'uitgever-a', client: 'rekenapp' });
      expect({ status: both.status, body: both.body }).toEqual({ status: 400, body: { type: `${PROBLEM}invalid_request`, title: 'The request is invalid', status: 400, errors: [{ field: 'supplier', detail: 'give exactly one of supplier or client' }] } });
      expect((await breach(schoolA, base)).body.errors).toEqual([{ field: 'supplier', detail: 'give exactly one of supplier or client' }]);
      const reversed = await breach(schoolA, { ...base, supplier: 'uitgever-a', from: '2026-02-01', until: '2026-01-31' });
      expect({ status: reversed.status, errors: reversed.body.errors }).toEqual({ status: 400, errors: [{ field: 'until', detail: 'must not be before from' }] });
      const badDate = await breach(schoolA, { ...base, supplier: 'uitgever-a', from: '2026-02-30' });
      expect({ status: badDate.status, field: badDate.body.errors[0].field }).toEqual({ status: 400, field: 'from' });
      const unknown = await breach(schoolA, { ...base, supplier: 'niemand' });
      expect({ status: unknown.status, body: unknown.body }).toMatchObject({ status: 422, body: { type: `${PROBLEM}unknown_reference`, errors: [{ field: 'supplier', detail: 'no such supplier' }] } });
      const unknownClient = await operator.get(`/breach-scope?client=geenapp&from=${today}&until=${today}`);
      expect({ status: unknownClient.status, errors: unknownClient.body.errors }).toEqual({ status: 422, errors: [{ field: 'client', detail: 'no such client' }] });
      const operatorBoth = await operator.get(`/breach-scope?supplier=uitgever-a&client=rekenapp&from=${today}&until=${today}`);
      expect({ status: operatorBoth.status, errors: operatorBoth.body.errors }).toEqual({ status: 400, errors: [{ field: 'querystring.supplier', detail: 'give exactly one of supplier or client' }] });
      // More than a few pupils at once is a job: each key may cost a scrypt run.
      const tooMany = await breach(schoolA, { ...base, supplier: 'uitgever-a', studentKeys: Array.from({ length: 101 }, (_, i) => `k${i}`) });
      expect({ status: tooMany.status, errors: tooMany.body.errors }).toEqual({ status: 400, errors: [{ field: 'studentKeys', detail: 'at most 100 keys at once; send a whole roster to breach-scope-jobs' }] });
      const tooManyForAJob = await schoolA.post(BREACH_JOBS, { ...base, supplier: 'uitgever-a', studentKeys: Array.from({ length: 50_001 }, (_, i) => `k${i}`) });
      expect({ status: tooManyForAJob.status, field: tooManyForAJob.body.errors[0].field }).toEqual({ status: 400, field: 'studentKeys' });
      const reversedJob = await schoolA.post(BREACH_JOBS, { ...base, supplier: 'uitgever-a', from: '2026-02-01', until: '2026-01-31' });
      expect({ status: reversedJob.status, errors: reversedJob.body.errors }).toEqual({ status: 400, errors: [{ field: 'until', detail: 'must not be before from' }] });
      const unknownJob = await schoolA.post(BREACH_JOBS, { ...base, client: 'geenapp' });
      expect({ status: unknownJob.status, errors: unknownJob.body.errors }).toEqual({ status: 422, errors: [{ field: 'client', detail: 'no such client' }] });
    });

    it('answers a whole roster as a job: the same pupils by position in the roster, no key or ref in the KV', async () => {
      const many = [...Array.from({ length: 150 }, (_, i) => `rooster-${i}-${randomBytes(4).toString('hex')}`), p.lees, p.reken, p.lees];
      const started = await schoolA.post(BREACH_JOBS, { supplier: 'uitgever-a', from: today, until: today, studentKeys: many });
      expect(started.status).toBe(202);
      expect(started.headers.get('location')).toBe(`/admin/v1${BREACH_JOBS}/${started.body.id}`);
      expect(started.body).toEqual({ id: expect.any(String), status: 'running', total: 153, done: 0 });
      const job = await waitForJob(schoolA, `${BREACH_JOBS}/${started.body.id}`);
      expect(job).toEqual({ id: started.body.id, supplier: 'uitgever-a', from: today, until: today, status: 'done', total: 153, done: 153, startedAt: expect.any(String), finishedAt: expect.any(String) });
      const result = await schoolA.get(`${BREACH_JOBS}/${started.body.id}/result`);
      expect(result.body).toEqual({
        affected: [
          { position: 150, clients: ['leesapp'], claims: ['grade'], firstDay: today, lastDay: today },
          { position: 151, clients: ['rekenapp'], claims: ['grade', 'group_names', 'groups', 'school'], firstDay: today, lastDay: today },
        ],
        rosterSize: 153,
        affectedCount: 2,
      });
      // The same answer as for a few pupils at once.
      const sync = await breach(schoolA, { supplier: 'uitgever-a', from: today, until: today, studentKeys: many.slice(148) });
      expect(sync.body.affected.map(({ studentKey, ...a }: { studentKey: string }) => ({ position: many.indexOf(studentKey), ...a }))).toEqual(result.body.affected);
      // Each kind of job is found only under its own routes, and only at its own school.
      expect((await schoolA.get(`${JOBS}/${started.body.id}`)).status).toBe(404);
      expect((await schoolB.get(`/schools/34CD01/breach-scope-jobs/${started.body.id}`)).status).toBe(404);
      const kv = gateway.kv as MemoryKv;
      const entries = (await Promise.all(kv.keys().map(async (k) => `${k}=${await kv.get(k)}`))).filter((e) => e.startsWith(`resjob:${started.body.id}`));
      expect(entries).toHaveLength(2);
      for (const key of [p.lees, p.reken, many[0]!]) {
        const refs = referenceRefs({ master, school: '12AB', studentKey: key, ...TEST_SCRYPT });
        expect(entries.filter((e) => e.includes(key) || e.includes(refs.ref) || e.includes(refs.legacyRef))).toEqual([]);
      }
    });

    it('still answers for a supplier whose registration was removed, from the ledger', async () => {
      await insertDisclosures(store.db, [{ school: '12AB', studentRef: referenceRefs({ master, school: '12AB', studentKey: p.never, ...TEST_SCRYPT }).ref, client: 'oude-app', supplier: 'oude-uitgever', claims: ['school'], day: before, count: 2 }]);
      const res = await breach(schoolA, { supplier: 'oude-uitgever', from: before, until: today, studentKeys: roster() });
      expect(res.body).toEqual({ affected: [{ studentKey: p.never, clients: ['oude-app'], claims: ['school'], firstDay: before, lastDay: before }], rosterSize: 5, affectedCount: 1 });
      // Another school never released anything there: for it, the supplier is unknown.
      const forB = await schoolB.post('/schools/34CD01/breach-scope', { supplier: 'oude-uitgever', from: before, until: today, studentKeys: ['x'] });
      expect(forB.status).toBe(422);
    });
  });
}
