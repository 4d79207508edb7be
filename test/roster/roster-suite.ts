import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeySchedule } from '../../src/crypto/key-schedule.js';
import type { Kv } from '../../src/store/kv.js';
import { everyTableText } from '../admin/privacy-helpers.js';
import { adminClient, type AdminClient } from '../helpers/admin.js';
import { TestClock } from '../helpers/clock.js';
import type { TestDb } from '../helpers/db.js';
import { makeWorld, type World } from '../helpers/fixture.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { edexml, oneRosterFiles, PEOPLE, readRoster, zipOf } from '../../support/roster-files.js';
import { keyHash, lookupHash } from '../../src/roster/seal.js';

// The school's roster through the admin API (docs/roster.md), once per database
// adapter: the three formats give one roster, bad rows are all named and
// change nothing, a full sync removes absent people (at once for logins, after
// the grace period for good), deltas, jobs with progress, and a dump of every
// table and KV key that holds no pupil data in clear.

const BOOTSTRAP = 'bootstrap-token-0123456789-abcdefghijklmnopqrstuvwxyz';
const SCHOOL = '12AB';
const DAY_MS = 86_400_000;

export interface KvUnderTest {
  kv: Kv;
  /** Every key with its value, as a copy of the store would show them. */
  dump(): Promise<string>;
  close(): Promise<void>;
}

const byKey = <T extends { studentKey: string }>(list: readonly T[]) => [...list].sort((a, b) => a.studentKey.localeCompare(b.studentKey));

export function defineRosterSuite(makeDb: () => Promise<TestDb>, makeKv?: () => Promise<KvUnderTest>) {
  const master = randomBytes(32);
  const keys = createKeySchedule(master);
  const clock = new TestClock();
  let world: World;
  let store: TestDb;
  let kvUnderTest: KvUnderTest | undefined;
  let gateway: TestGateway;
  let school: AdminClient;

  beforeAll(async () => {
    world = await makeWorld();
    store = await makeDb();
    kvUnderTest = await makeKv?.();
    gateway = await startGateway({ seed: world.seed, db: store.db, clock, masterKey: master, ...(kvUnderTest ? { kv: kvUnderTest.kv } : {}), env: { OPERATOR_BOOTSTRAP_TOKEN: BOOTSTRAP, RATE_LIMIT_ADMIN_PER_MIN: '100000' } });
    const operator = adminClient(gateway.url, BOOTSTRAP);
    school = adminClient(gateway.url, (await operator.post(`/schools/${SCHOOL}/tokens`, { label: 'LAS' })).body.token);
  }, 60_000);
  afterAll(async () => {
    await gateway?.close();
    await kvUnderTest?.close();
    await store?.cleanup();
  });

  async function put(body: string | Buffer, type: string, headers: Record<string, string> = {}) {
    const res = await fetch(`${gateway.url}/admin/v1/schools/${SCHOOL}/roster`, { method: 'PUT', headers: { authorization: `Bearer ${BOOTSTRAP}`, 'content-type': type, ...headers }, body });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: JSON.parse(text) as Record<string, any>, text }; // eslint-disable-line @typescript-eslint/no-explicit-any
  }
  const putJson = (people: unknown[], headers?: Record<string, string>) => put(JSON.stringify({ people }), 'application/json', headers);
  const rosterTables = () => store.db.query<{ t: string }>(
    "SELECT coalesce((SELECT string_agg(x::text, ',' ORDER BY key_hash) FROM roster_people x WHERE school_id = $1), '') || coalesce((SELECT string_agg(y::text, ',' ORDER BY login_hash) FROM roster_logins y WHERE school_id = $1), '') AS t",
    [SCHOOL],
  ).then((r) => r[0]!.t);

  it('gives one roster from EDEXML, a OneRoster zip and JSON: each later import finds every person unchanged', async () => {
    const fromXml = await put(edexml(SCHOOL), 'application/xml');
    expect(fromXml.status).toBe(200);
    expect(fromXml.body).toMatchObject({ kind: 'full', format: 'edexml', state: 'done', total: 4, counts: { added: 4, changed: 0, unchanged: 0, removed: 0, skipped: 0 } });
    expect(await readRoster(store.db, keys, SCHOOL)).toEqual(byKey(PEOPLE));

    const fromZip = await put(await zipOf(oneRosterFiles(SCHOOL)), 'application/zip');
    expect(fromZip.status).toBe(200);
    expect(fromZip.body.counts).toEqual({ added: 0, changed: 0, unchanged: 4, removed: 0, skipped: 1 });

    const fromJson = await putJson(PEOPLE);
    expect(fromJson.body.counts).toEqual({ added: 0, changed: 0, unchanged: 4, removed: 0, skipped: 0 });
    expect(await readRoster(store.db, keys, SCHOOL)).toEqual(byKey(PEOPLE));
  });

  it('finds a person by each login (e-mail case-insensitively) and only by the kind that matches', async () => {
    const roster = gateway.app.roster!;
    const sanneke = PEOPLE[0]!;
    expect(await roster.findRosterPerson(SCHOOL, 'preferred_username', 'SANNEKE.vdijkhuizen')).toEqual(sanneke);
    expect(await roster.findRosterPerson(SCHOOL, 'email', 'sanneke.vandijkhuizen@REGENBOOG.example')).toEqual(sanneke);
    expect(await roster.findRosterPerson(SCHOOL, 'sub', 'sanneke.vdijkhuizen')).toEqual(sanneke);
    expect(await roster.findRosterPerson(SCHOOL, 'sub', 'SANNEKE.vdijkhuizen')).toBeUndefined();
    expect(await roster.findRosterPerson('34CD01', 'email', sanneke.logins[1]!)).toBeUndefined();
    expect(await roster.findRosterPerson(SCHOOL, 'email', 'nobody@regenboog.example')).toBeUndefined();
  });

  it('never answers with another person when a login row is made to point at them (the opened person must carry the login)', async () => {
    const k = keys.roster(SCHOOL);
    const [a, b] = [PEOPLE[0]!, PEOPLE[1]!];
    const row = lookupHash(k, 'sub', a.logins[0]!).toString('hex');
    const move = (to: string) => store.db.query("UPDATE roster_logins SET key_hash = decode($1, 'hex') WHERE school_id = $2 AND login_hash = decode($3, 'hex')", [keyHash(k, to).toString('hex'), SCHOOL, row]);
    await move(b.studentKey);
    await gateway.app.roster!.changed(SCHOOL);
    try {
      expect(await gateway.app.roster!.findRosterPerson(SCHOOL, 'sub', a.logins[0]!)).toBeUndefined();
    } finally {
      await move(a.studentKey);
      await gateway.app.roster!.changed(SCHOOL);
    }
    expect(await gateway.app.roster!.findRosterPerson(SCHOOL, 'sub', a.logins[0]!)).toEqual(a);
  });

  it('names every one of three bad rows (EDEXML lines, CSV files and lines, JSON indexes) and changes nothing', async () => {
    const before = await rosterTables();
    const badPupils = [
      '<leerling key="LLQbad1z"><achternaam>Een</achternaam><roepnaam>Bad</roepnaam><geboortedatum>2014-13-45</geboortedatum><groep key="GRP7A"/></leerling>\n',
      '<leerling><achternaam>Twee</achternaam><roepnaam>Bad</roepnaam></leerling>\n',
      '<leerling key="LLQbad3z"><achternaam>Drie</achternaam><roepnaam>Bad</roepnaam><groep key="NO-SUCH"/></leerling>\n',
    ].join('');
    const xml = await put(edexml(SCHOOL, PEOPLE, badPupils), 'application/xml');
    expect(xml.status).toBe(400);
    expect(xml.headers.get('content-type')).toContain('application/problem+json');
    const lines = edexml(SCHOOL, PEOPLE, badPupils).split('\n');
    const lineOf = (needle: string) => lines.findIndex((l) => l.includes(needle)) + 1;
    expect(xml.body).toMatchObject({ type: 'urn:pgw:problem:invalid_roster', status: 400, problemCount: 3 });
    expect(xml.body.errors).toEqual([
      { file: 'body', line: lineOf('LLQbad3z'), field: 'leerling/groep/@key', detail: 'names no group in groepen' },
      { file: 'body', line: lineOf('LLQbad1z'), field: 'leerling/geboortedatum', detail: expect.any(String) },
      { file: 'body', line: lineOf('<achternaam>Twee'), field: 'leerling/@key', detail: expect.any(String) },
    ]);

    const files = oneRosterFiles(SCHOOL);
    files['users.csv'] += 'LLQbad4z,active,,true,vier.q,,Vi\u0001er,Vier,,,,,org-1\r\n';
    files['roles.csv'] += 'rb,active,,LLQbad4z,primary,student,,,org-1\r\n';
    files['demographics.csv'] += 'LLQbad4z,active,17-05-2013,male\r\n';
    files['enrollments.csv'] += 'eb,active,NO-CLASS,org-1,LLQ4711z,student,false\r\n';
    const zip = await put(await zipOf(files), 'application/zip');
    expect(zip.status).toBe(400);
    const fileLines = (name: string) => files[name]!.split('\r\n').length - 1;
    expect(zip.body.errors).toEqual([
      { file: 'enrollments.csv', line: fileLines('enrollments.csv'), field: 'classSourcedId', detail: 'names no class of this school in classes.csv' },
      { file: 'demographics.csv', line: fileLines('demographics.csv'), field: 'birthDate', detail: 'must be a date YYYY-MM-DD' },
      { file: 'users.csv', line: fileLines('users.csv'), field: 'givenName', detail: 'no control characters' },
    ]);
    expect(zip.body.problemCount).toBe(3);

    const json = await putJson([PEOPLE[0], { ...PEOPLE[1], birthdate: 'yesterday' }, { ...PEOPLE[2], role: 'parent' }, { ...PEOPLE[3], studentKey: PEOPLE[0]!.studentKey }]);
    expect(json.status).toBe(400);
    expect(json.body.errors.map((e: { index: number; field: string }) => `${e.index} ${e.field}`)).toEqual(['1 people.1.birthdate', '2 people.2.role', '3 people.3.studentKey']);
    expect(json.text).not.toContain(PEOPLE[0]!.studentKey);

    expect(await rosterTables()).toBe(before);
  });

  it('refuses an EDEXML file with a DOCTYPE (no entity is ever expanded), or of another school, changing nothing', async () => {
    const before = await rosterTables();
    const withDoctype = edexml(SCHOOL).replace('<EDEX ', '<!DOCTYPE EDEX [<!ENTITY x "LLQxxz">]>\n<EDEX ').replace('<roepnaam>Daanqw', '<roepnaam>&x;');
    const refused = await put(withDoctype, 'application/xml');
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([{ file: 'body', field: '(document)', detail: 'a DOCTYPE is not accepted (no DTD or entity declarations)' }]);
    const other = await put(edexml('34CD01'), 'application/xml');
    expect(other.body.errors).toEqual([{ file: 'body', field: 'school/brincode', detail: 'the file is for another school' }]);
    expect(await rosterTables()).toBe(before);
  });

  it('removes absent people in a full sync: no login at once (also from the cache), the row after the grace period', async () => {
    const roster = gateway.app.roster!;
    const leaving = PEOPLE[2]!;
    expect(await roster.findRosterPerson(SCHOOL, 'email', leaving.logins[0]!)).toEqual(leaving);
    const sync = await putJson(PEOPLE.filter((p) => p !== leaving));
    expect(sync.body.counts).toEqual({ added: 0, changed: 0, unchanged: 3, removed: 1, skipped: 0 });
    expect(await roster.findRosterPerson(SCHOOL, 'email', leaving.logins[0]!)).toBeUndefined();
    expect((await school.get(`/schools/${SCHOOL}/roster`)).body).toMatchObject({ active: 3, removedPendingDeletion: 1, graceDays: 30 });

    const access = await school.post(`/schools/${SCHOOL}/pupils/disclosures`, { studentKey: leaving.studentKey });
    expect(access.body.roster).toEqual({ person: leaving, removedAt: expect.any(String) });

    clock.advance(29 * DAY_MS);
    await gateway.app.privacy!.purgeExpired();
    expect((await school.get(`/schools/${SCHOOL}/roster`)).body.removedPendingDeletion).toBe(1);
    clock.advance(2 * DAY_MS);
    try {
      await gateway.app.privacy!.purgeExpired();
      expect((await school.get(`/schools/${SCHOOL}/roster`)).body.removedPendingDeletion).toBe(0);
      expect((await school.post(`/schools/${SCHOOL}/pupils/disclosures`, { studentKey: leaving.studentKey })).body.roster).toBeNull();
    } finally {
      clock.advance(-31 * DAY_MS);
    }
  });

  it('applies a delta (upsert, change, remove) and refuses a login another person holds, changing nothing', async () => {
    const newcomer = { studentKey: 'LLQ4799z', logins: ['nieuwq@regenboog.example'], role: 'student', given_name: 'Nieuwq', groups: [] };
    const changed = { ...PEOPLE[1]!, grade: 7 };
    const delta = await school.put(`/schools/${SCHOOL}/roster`, {});
    expect(delta.status).toBe(400);
    const ok = await school.patch(`/schools/${SCHOOL}/roster`, { upsert: [newcomer, changed], remove: [PEOPLE[3]!.studentKey] });
    expect(ok.status).toBe(200);
    expect(ok.body.counts).toEqual({ added: 1, changed: 1, unchanged: 0, removed: 1, skipped: 0 });
    expect(await gateway.app.roster!.findRosterPerson(SCHOOL, 'email', 'NIEUWQ@regenboog.example')).toEqual(newcomer);
    expect(await gateway.app.roster!.findRosterPerson(SCHOOL, 'sub', PEOPLE[3]!.logins[0]!)).toBeUndefined();

    const before = await rosterTables();
    const clash = await school.patch(`/schools/${SCHOOL}/roster`, { upsert: [{ ...newcomer, studentKey: 'LLQ4800z', logins: [PEOPLE[0]!.logins[0]!.toUpperCase()] }] });
    expect(clash.status).toBe(400);
    expect(clash.body.errors).toEqual([{ file: 'body', index: 0, field: 'upsert.0.logins', detail: 'a login of another person on the roster' }]);
    expect(await rosterTables()).toBe(before);
  });

  it('runs a large import as a job: 202 with Location, progress and outcome readable, audited with counts only', async () => {
    const many = Array.from({ length: 2_500 }, (_, i) => ({ studentKey: `LLQbulk${i}z`, logins: [`bulk${i}q@regenboog.example`], role: 'student', given_name: 'Bulkq', groups: [] }));
    const started = await putJson(many, { prefer: 'respond-async' });
    expect(started.status).toBe(202);
    expect(started.headers.get('location')).toBe(`/admin/v1/schools/${SCHOOL}/roster/imports/${started.body.id}`);
    expect(started.body).toMatchObject({ state: 'validating', processed: 0 });
    let status = started.body;
    for (let i = 0; i < 200 && !['done', 'refused', 'failed'].includes(status.state); i++) {
      await new Promise((r) => setTimeout(r, 50));
      status = (await school.get(`/schools/${SCHOOL}/roster/imports/${started.body.id}`)).body;
    }
    expect(status).toMatchObject({ state: 'done', total: 2_500, processed: 2_500, counts: { added: 2_500, removed: 3 } });
    const summary = (await school.get(`/schools/${SCHOOL}/roster`)).body;
    expect(summary).toMatchObject({ active: 2_500, lastImport: { id: started.body.id, state: 'done' } });
    const audit = (await school.get(`/schools/${SCHOOL}/audit-events?limit=200`)).body.items.filter((e: { action: string }) => e.action.startsWith('roster.'));
    expect(audit[0]).toMatchObject({ action: 'roster.full', target: `roster-import:${started.body.id}`, before: null, after: { format: 'json', added: 2_500, changed: 0, unchanged: 0, removed: 3, skipped: 0 } });
    expect(JSON.stringify(audit)).not.toMatch(/LLQ|regenboog\.example|q@/);
  });

  it('runs one import per school at a time (409), and reads an import whose process stopped as failed (interrupted)', async () => {
    const other = randomUUID();
    const insert = (heartbeatAgoMs: number) => store.db.query(
      "INSERT INTO roster_imports (id, school_id, actor, kind, format, state, started_at, heartbeat_at) VALUES ($1, $2, 'elsewhere', 'full', 'json', 'writing', $3, $3)",
      [other, SCHOOL, new Date(clock.now() - heartbeatAgoMs)],
    );
    await insert(1_000);
    const busy = await putJson(PEOPLE);
    expect(busy.status).toBe(409);
    expect(busy.body.type).toBe('urn:pgw:problem:import_running');
    await store.db.query('DELETE FROM roster_imports WHERE id = $1', [other]);

    await insert(60_000);
    expect((await school.get(`/schools/${SCHOOL}/roster/imports/${other}`)).body).toMatchObject({ state: 'failed', reason: 'interrupted', finishedAt: expect.any(String) });
    expect((await putJson(PEOPLE)).status).toBe(200);
    expect((await school.get(`/schools/${SCHOOL}/roster/imports/${other}`)).body).toMatchObject({ state: 'failed', reason: 'interrupted' });
  });

  it('counts logins that found nobody, per school day, in the summary', async () => {
    await gateway.app.roster!.countUnmatchedLogin(SCHOOL);
    await gateway.app.roster!.countUnmatchedLogin(SCHOOL);
    const summary = (await school.get(`/schools/${SCHOOL}/roster`)).body;
    expect(summary.unmatchedLogins).toMatchObject({ lastDays: 30, total: 2, days: [{ count: 2 }] });
  });

  it('erases a pupil from the roster at once (and from the login cache)', async () => {
    await putJson(PEOPLE);
    const pupil = PEOPLE[0]!;
    expect(await gateway.app.roster!.findRosterPerson(SCHOOL, 'sub', pupil.logins[0]!)).toEqual(pupil);
    const erased = await school.post(`/schools/${SCHOOL}/pupils/erase`, { studentKey: pupil.studentKey });
    expect(erased.body).toEqual({ disclosures: 0, objections: 0, roster: 1 });
    expect(await gateway.app.roster!.findRosterPerson(SCHOOL, 'sub', pupil.logins[0]!)).toBeUndefined();
    expect((await school.post(`/schools/${SCHOOL}/pupils/disclosures`, { studentKey: pupil.studentKey })).body.roster).toBeNull();
  });

  it('documents the roster routes in OpenAPI, with a request body per content type', async () => {
    const doc = await adminClient(gateway.url, null).get('/openapi.json');
    const roster = doc.body.paths['/admin/v1/schools/{schoolId}/roster'];
    expect(Object.keys(roster.put.requestBody.content).sort()).toEqual(['application/json', 'application/xml', 'application/zip']);
    expect(roster.put.requestBody.content['application/json'].schema.properties.people.items.required).toEqual(['studentKey', 'role']);
    expect(Object.keys(roster.patch.requestBody.content)).toEqual(['application/json']);
    expect(Object.keys(roster.put.responses).sort()).toEqual(expect.arrayContaining(['200', '202', '400', '409']));
    expect(doc.body.paths['/admin/v1/schools/{schoolId}/roster/imports/{importId}'].get).toBeDefined();
  });

  describe('at rest', () => {
    it('holds no pupil key, name, birth date or login in clear in any table or KV key', async () => {
      await putJson(PEOPLE);
      await put(edexml(SCHOOL), 'application/xml');
      await put(await zipOf(oneRosterFiles(SCHOOL)), 'application/zip');
      await gateway.app.roster!.findRosterPerson(SCHOOL, 'email', PEOPLE[1]!.logins[0]!);
      const tables = await everyTableText(store.db);
      // bytea columns print as hex: what they hold is read as bytes too, as anyone with the dump would.
      const bytes = [...tables.matchAll(/\\x([0-9a-f]+)/g)].map((m) => Buffer.from(m[1]!, 'hex').toString('latin1')).join('\n');
      expect(bytes.length).toBeGreaterThan(1000);
      const dump = `${tables}\n${bytes}\n${kvUnderTest ? await kvUnderTest.dump() : ''}`;
      expect(dump).toContain('roster.full');
      for (const p of PEOPLE) {
        for (const value of [p.studentKey, p.given_name, p.family_name, p.birthdate, ...p.logins, ...p.logins.map((l) => l.toLowerCase())]) {
          if (value !== undefined) expect({ value, found: dump.includes(value) }).toEqual({ value, found: false });
        }
      }
      expect(dump).not.toContain('LLQbulk');
    });
  });
}
