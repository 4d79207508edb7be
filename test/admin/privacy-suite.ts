import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeySchedule } from '../../src/crypto/key-schedule.js';
import { pupilInput, rootCacheKey } from '../../src/crypto/pseudonym.js';
import { insertDisclosures } from '../../src/privacy/disclosures.js';
import { schoolDay } from '../../src/release/licence.js';
import { adminClient, type AdminClient } from '../helpers/admin.js';
import { pageOf, refusedPage } from '../helpers/assertion-tests-util.js';
import { fullLogin, postAssertion, toSchool } from '../helpers/browser.js';
import { TestClock } from '../helpers/clock.js';
import type { TestDb } from '../helpers/db.js';
import { LEES_CB, makeWorld, PUPIL, REKEN_CB, TAAL_CB, type World } from '../helpers/fixture.js';
import { startGateway, stateKeys, TEST_SCRYPT, type TestGateway } from '../helpers/gateway.js';
import { referenceRefs } from '../helpers/reference-pseudonym.js';
import { TestPublisher } from '../helpers/publisher.js';
import { issueCode } from '../helpers/token-userinfo-requests.js';
import { everyTableText, ledgerRows } from './privacy-helpers.js';

// Privacy rights through the admin API and full logins , run once per
// database adapter: the disclosure ledger a login writes, the access request
// (inzage) as JSON and CSV, objections (bezwaar) that stop the next login,
// erasure, and the retention purge.

const BOOTSTRAP = 'bootstrap-token-0123456789-abcdefghijklmnopqrstuvwxyz';
const PROBLEM = 'urn:pgw:problem:';
const DAY_MS = 86_400_000;
const REKEN_CLAIMS = ['grade', 'group_names', 'groups', 'school'];

export function definePrivacySuite(makeDb: () => Promise<TestDb>) {
  const master = randomBytes(32);
  const keys = createKeySchedule(master);
  const clock = new TestClock();
  let world: World;
  let store: TestDb;
  let gateway: TestGateway;
  let operator: AdminClient;
  let schoolA: AdminClient;
  let schoolB: AdminClient;
  let reken: TestPublisher;
  let lees: TestPublisher;
  let taal: TestPublisher;

  const pupil = (key: string) => ({ ...PUPIL, sub: key });
  const refOf = (key: string, school = '12AB') => referenceRefs({ master, school, studentKey: key, ...TEST_SCRYPT }).ref;
  const rowsOf = (key: string) => ledgerRows(store.db, refOf(key));

  beforeAll(async () => {
    world = await makeWorld();
    store = await makeDb();
    gateway = await startGateway({ seed: world.seed, db: store.db, clock, masterKey: master, env: { OPERATOR_BOOTSTRAP_TOKEN: BOOTSTRAP, RATE_LIMIT_ADMIN_PER_MIN: '100000' } });
    operator = adminClient(gateway.url, BOOTSTRAP);
    schoolA = adminClient(gateway.url, (await operator.post('/schools/12AB/tokens', { label: 'admin 12AB' })).body.token);
    schoolB = adminClient(gateway.url, (await operator.post('/schools/34CD01/tokens', { label: 'admin 34CD01' })).body.token);
    reken = await TestPublisher.create(gateway.url, 'rekenapp', REKEN_CB, { key: world.rekenKey });
    lees = await TestPublisher.create(gateway.url, 'leesapp', LEES_CB, { key: world.leesKey });
    taal = await TestPublisher.create(gateway.url, 'taalapp', TAAL_CB, { secret: world.taalSecret });
  }, 60_000);
  afterAll(async () => {
    await gateway?.close();
    await store?.cleanup();
  });

  /** The publisher starts a login, the school signs an assertion for the pupil: the gateway's answer. */
  async function attempt(publisher: TestPublisher, key: string): Promise<Response> {
    const started = await publisher.startLogin({ school_hint: '12AB' });
    const step = await toSchool(gateway, world.regenboog, started.url);
    return postAssertion(step, await world.regenboog.assertion(pupil(key), { nonce: step.nonce, aud: gateway.url, now: clock.now() }));
  }

  const codeAndSessionKeys = () => stateKeys(gateway.kv).filter((k) => k.startsWith('code:') || k.startsWith('sess:'));

  describe('the disclosure ledger and the access request', () => {
    const key = 'leerling-inzage';

    it('records one row per new (pupil, client, claims, day); a repeat the same day only counts; another day is a new row', async () => {
      const today = schoolDay(clock.now());
      const { claims } = await fullLogin(gateway, world.regenboog, reken, pupil(key));
      expect(Object.keys(claims).filter((c) => REKEN_CLAIMS.includes(c)).sort()).toEqual(REKEN_CLAIMS);
      expect(await rowsOf(key)).toEqual([{ client: 'rekenapp', supplier: 'uitgever-a', claims: REKEN_CLAIMS.join(','), day: today, count: 1 }]);

      await fullLogin(gateway, world.regenboog, reken, pupil(key));
      // Durable already: no write on the login path, the count follows with the next flush.
      expect(await rowsOf(key)).toEqual([expect.objectContaining({ day: today, count: 1 })]);
      await gateway.app.privacy!.ledger.flushCounts();
      expect(await rowsOf(key)).toEqual([expect.objectContaining({ day: today, count: 2 })]);

      await fullLogin(gateway, world.regenboog, lees, pupil(key));
      clock.advance(DAY_MS);
      try {
        await issueCode(gateway, world.regenboog, reken, pupil(key), clock.now());
        const tomorrow = schoolDay(clock.now());
        expect(await rowsOf(key)).toEqual([
          { client: 'leesapp', supplier: 'uitgever-a', claims: 'grade', day: today, count: 1 },
          { client: 'rekenapp', supplier: 'uitgever-a', claims: REKEN_CLAIMS.join(','), day: today, count: 2 },
          { client: 'rekenapp', supplier: 'uitgever-a', claims: REKEN_CLAIMS.join(','), day: tomorrow, count: 1 },
        ]);

        const access = await schoolA.post('/schools/12AB/pupils/disclosures', { studentKey: key });
        expect(access.status).toBe(200);
        expect(access.headers.get('content-type')).toContain('application/json');
        expect(access.body).toEqual({
          disclosures: [
            { client: 'leesapp', clientName: 'Leesapp', supplier: 'uitgever-a', supplierName: 'Uitgever A', claims: ['grade'], firstDay: today, lastDay: today, count: 1 },
            { client: 'rekenapp', clientName: 'Rekenapp', supplier: 'uitgever-a', supplierName: 'Uitgever A', claims: REKEN_CLAIMS, firstDay: today, lastDay: tomorrow, count: 3 },
          ],
          objections: [],
          roster: null,
        });
        expect(access.text).not.toContain(refOf(key));
      } finally {
        clock.advance(-DAY_MS);
      }
    });

    it('answers the same as a CSV download for parents: BOM, Dutch-first headers, one row per product and claim set', async () => {
      const expected = (await schoolA.post('/schools/12AB/pupils/disclosures', { studentKey: key })).body.disclosures;
      for (const [query, accept] of [['?format=csv', 'application/json'], ['', 'text/csv']] as const) {
        const res = await fetch(`${gateway.url}/admin/v1/schools/12AB/pupils/disclosures${query}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${BOOTSTRAP}`, 'content-type': 'application/json', accept },
          body: JSON.stringify({ studentKey: key }),
        });
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
        expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="inzage-12AB-\d{4}-\d{2}-\d{2}\.csv"$/);
        const bytes = Buffer.from(await res.arrayBuffer());
        expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
        const lines = bytes.subarray(3).toString('utf8').split('\r\n');
        expect(lines[0]).toBe('Product (product);Product-id (client id);Leverancier (supplier);Leverancier-id (supplier id);Gegevens (claims);Eerste dag (first day);Laatste dag (last day);Aantal keer (count)');
        expect(lines.slice(1)).toEqual([
          `Leesapp;leesapp;Uitgever A;uitgever-a;jaargroep (grade);${expected[0].firstDay};${expected[0].lastDay};1`,
          `Rekenapp;rekenapp;Uitgever A;uitgever-a;"jaargroep (grade), groepsnamen (group_names), groepen als pseudoniem (groups), school (school)";${expected[1].firstDay};${expected[1].lastDay};3`,
          '',
        ]);
      }
    });

    it('makes a name a spreadsheet would run as a formula plain text in the CSV', async () => {
      const supplier = (name: string) => operator.put('/suppliers/uitgever-a', { id: 'uitgever-a', name, keyVersion: 1 });
      expect((await supplier('=HYPERLINK("https://evil.example","x")')).status).toBe(200);
      try {
        const res = await fetch(`${gateway.url}/admin/v1/schools/12AB/pupils/disclosures?format=csv`, {
          method: 'POST',
          headers: { authorization: `Bearer ${BOOTSTRAP}`, 'content-type': 'application/json' },
          body: JSON.stringify({ studentKey: key }),
        });
        const row = (await res.text()).split('\r\n')[1]!;
        expect(row.split(';').slice(0, 2)).toEqual(['Leesapp', 'leesapp']);
        expect(row).toContain(`;"'=HYPERLINK(""https://evil.example"",""x"")";uitgever-a;`);
      } finally {
        expect((await supplier('Uitgever A')).status).toBe(200);
      }
    });

    it("gives another school's admin nothing for that key, and refuses it this school's route", async () => {
      const other = await schoolB.post('/schools/34CD01/pupils/disclosures', { studentKey: key });
      expect(other.status).toBe(200);
      expect(other.body).toEqual({ disclosures: [], objections: [], roster: null });
      const foreign = await schoolB.post('/schools/12AB/pupils/disclosures', { studentKey: key });
      expect(foreign.status).toBe(404);
      expect(foreign.body.type).toBe(`${PROBLEM}not_found`);
    });

    it('refuses a malformed key, a key in the URL and unknown fields with 400, naming the field', async () => {
      const control = await schoolA.post('/schools/12AB/pupils/disclosures', { studentKey: 'a\u0000b' });
      expect(control.status).toBe(400);
      expect(control.body.errors).toEqual([{ field: 'studentKey', detail: 'must be 1..128 characters without control characters' }]);
      expect(control.text).not.toContain('a\\u0000b');
      const extra = await schoolA.post('/schools/12AB/pupils/disclosures?studentKey=x', { studentKey: key });
      expect(extra.status).toBe(400);
      expect((await schoolA.post('/schools/12AB/pupils/disclosures', {})).body.errors[0].field).toBe('studentKey');
    });
  });

  describe('objections', () => {
    it('an objection against a client stops the next login with the objection page; its withdrawal lets it through', async () => {
      const key = 'leerling-bezwaar-client';
      const created = await schoolA.post('/schools/12AB/objections', { studentKey: key, client: 'rekenapp' });
      expect(created.status).toBe(201);
      expect(Object.keys(created.body).sort()).toEqual(['client', 'createdAt', 'id']);
      expect(created.body).toMatchObject({ client: 'rekenapp' });
      expect(created.text).not.toContain(key);
      expect(created.text).not.toContain(refOf(key));

      const before = codeAndSessionKeys();
      const refused = await attempt(reken, key);
      expect(refused.headers.get('set-cookie')).toBeNull();
      expect(await pageOf(refused)).toEqual(refusedPage('objection', 403));
      expect(codeAndSessionKeys()).toEqual(before);
      expect(await rowsOf(key)).toEqual([]);
      // Other products of the same supplier are not affected.
      expect((await attempt(lees, key)).status).toBe(303);

      const access = await schoolA.post('/schools/12AB/pupils/disclosures', { studentKey: key });
      expect(access.body.objections).toEqual([created.body]);

      expect((await schoolA.delete(`/schools/12AB/objections/${created.body.id}`)).status).toBe(204);
      expect((await schoolA.delete(`/schools/12AB/objections/${created.body.id}`)).status).toBe(404);
      const { claims } = await fullLogin(gateway, world.regenboog, reken, pupil(key));
      expect(claims.sub).toMatch(/^[a-z2-7]{32}$/);
      expect((await rowsOf(key)).map((r) => r.client)).toEqual(['leesapp', 'rekenapp']);
    });

    it('an objection against a supplier stops every product of that supplier, not the others', async () => {
      const key = 'leerling-bezwaar-supplier';
      const created = await schoolA.post('/schools/12AB/objections', { studentKey: key, supplier: 'uitgever-a' });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ supplier: 'uitgever-a' });
      for (const publisher of [reken, lees]) expect(await pageOf(await attempt(publisher, key))).toEqual(refusedPage('objection', 403));
      expect(await rowsOf(key)).toEqual([]);
      expect((await attempt(taal, key)).status).toBe(303);
      expect((await rowsOf(key)).map((r) => r.client)).toEqual(['taalapp']);

      const list = await schoolA.get('/schools/12AB/objections?limit=200');
      expect(list.status).toBe(200);
      expect(list.body.items).toContainEqual(created.body);
      expect(list.body).toMatchObject({ total: list.body.items.length, limit: 200, offset: 0 });
      expect(list.text).not.toContain(refOf(key));
      expect((await schoolA.delete(`/schools/12AB/objections/${created.body.id}`)).status).toBe(204);
      expect((await attempt(lees, key)).status).toBe(303);
    });

    it('refuses a duplicate (409), an unknown target (422), neither or both targets (400); pages stably; audits without the pupil', async () => {
      const key = 'leerling-bezwaar-regels';
      const first = await schoolA.post('/schools/12AB/objections', { studentKey: key, client: 'taalapp' });
      expect(first.status).toBe(201);
      const duplicate = await schoolA.post('/schools/12AB/objections', { studentKey: key, client: 'taalapp' });
      expect(duplicate.status).toBe(409);
      expect(duplicate.body).toEqual({ type: `${PROBLEM}already_exists`, title: 'The pupil already has this objection', status: 409, errors: [{ field: 'client', detail: 'already objected' }] });
      const unknownClient = await schoolA.post('/schools/12AB/objections', { studentKey: key, client: 'geenapp' });
      expect(unknownClient.status).toBe(422);
      expect(unknownClient.body).toMatchObject({ type: `${PROBLEM}unknown_reference`, errors: [{ field: 'client', detail: 'no such client' }] });
      const unknownSupplier = await schoolA.post('/schools/12AB/objections', { studentKey: key, supplier: 'niemand' });
      expect(unknownSupplier.status).toBe(422);
      expect(unknownSupplier.body).toMatchObject({ type: `${PROBLEM}unknown_reference`, errors: [{ field: 'supplier', detail: 'no such supplier' }] });
      for (const body of [{ studentKey: key }, { studentKey: key, client: 'taalapp', supplier: 'uitgever-b' }]) {
        const bad = await schoolA.post('/schools/12AB/objections', body);
        expect(bad.status).toBe(400);
        expect(bad.body.errors).toEqual([{ field: 'client', detail: 'give exactly one of client or supplier' }]);
      }
      const second = await schoolA.post('/schools/12AB/objections', { studentKey: `${key}-2`, supplier: 'uitgever-b' });
      expect(second.status).toBe(201);

      const all = await schoolA.get('/schools/12AB/objections?limit=200');
      const paged: string[] = [];
      for (let offset = 0; offset < all.body.total; offset++) paged.push(...(await schoolA.get(`/schools/12AB/objections?limit=1&offset=${offset}`)).body.items.map((o: { id: string }) => o.id));
      expect(paged).toEqual(all.body.items.map((o: { id: string }) => o.id));
      // Another school's list and another school's id.
      expect((await schoolB.get('/schools/34CD01/objections')).body.items).toEqual([]);
      expect((await operator.delete(`/schools/34CD01/objections/${first.body.id}`)).status).toBe(404);

      expect((await schoolA.delete(`/schools/12AB/objections/${first.body.id}`)).status).toBe(204);
      const audit = await schoolA.get('/schools/12AB/audit-events?limit=200');
      const events = audit.body.items.filter((e: { target: string }) => e.target === `objection:${first.body.id}`);
      expect(events.map((e: { action: string }) => e.action).sort()).toEqual(['objection.create', 'objection.delete']);
      expect(events.find((e: { action: string }) => e.action === 'objection.create').after).toEqual({ client: 'taalapp' });
      expect(audit.text).not.toContain(refOf(key));
      expect(audit.text).not.toContain(key);
      expect((await schoolA.delete(`/schools/12AB/objections/${second.body.id}`)).status).toBe(204);
    });
  });

  describe('erasure', () => {
    it("removes the pupil's ledger rows, objections, markers and cached root; audits without the pupil; a new login is recorded again", async () => {
      const key = 'leerling-wissen';
      const ref = refOf(key);
      const cacheKey = rootCacheKey(keys, pupilInput('12AB', key));
      await fullLogin(gateway, world.regenboog, reken, pupil(key));
      await fullLogin(gateway, world.regenboog, taal, pupil(key));
      expect((await schoolA.post('/schools/12AB/objections', { studentKey: key, client: 'leesapp' })).status).toBe(201);
      const kvText = async () => {
        const keysNow = stateKeys(gateway.kv);
        return keysNow.join('\n') + (await Promise.all(keysNow.map((k) => gateway.kv.get(k)))).join('\n');
      };
      expect(await kvText()).toContain(ref);
      expect(await kvText()).toContain(cacheKey);

      const erased = await schoolA.post('/schools/12AB/pupils/erase', { studentKey: key });
      expect(erased.status).toBe(200);
      expect(erased.body).toEqual({ disclosures: 2, objections: 1, roster: 0 });
      expect(await everyTableText(store.db)).not.toContain(ref);
      expect(await kvText()).not.toContain(ref);
      expect(await kvText()).not.toContain(cacheKey);
      expect((await schoolA.post('/schools/12AB/pupils/disclosures', { studentKey: key })).body).toEqual({ disclosures: [], objections: [], roster: null });
      const audit = await schoolA.get('/schools/12AB/audit-events?limit=200');
      expect(audit.body.items.find((e: { action: string }) => e.action === 'pupil.erased')).toMatchObject({ target: 'pupil', before: null, after: { disclosures: 2, objections: 1, roster: 0 } });
      expect(gateway.logs.join('\n')).not.toContain(ref);

      // Erasing again, or a pupil never seen: the same 200, with nothing counted.
      expect((await schoolA.post('/schools/12AB/pupils/erase', { studentKey: key })).body).toEqual({ disclosures: 0, objections: 0, roster: 0 });
      // This process forgot the row it remembered: the same day's next login is recorded anew.
      await fullLogin(gateway, world.regenboog, reken, pupil(key));
      expect(await rowsOf(key)).toEqual([expect.objectContaining({ client: 'rekenapp', day: schoolDay(clock.now()), count: 1 })]);
    });
  });

  it('documents every privacy route in the OpenAPI document, the access request with both its media types', async () => {
    const doc = await adminClient(gateway.url, null).get('/openapi.json');
    const paths = doc.body.paths;
    for (const [path, methods] of [
      ['/admin/v1/schools/{schoolId}/pupils/disclosures', ['post']],
      ['/admin/v1/schools/{schoolId}/pupils/erase', ['post']],
      ['/admin/v1/schools/{schoolId}/objections', ['get', 'post']],
      ['/admin/v1/schools/{schoolId}/objections/{objectionId}', ['delete']],
    ] as const) {
      for (const method of methods) expect({ path, method, documented: paths[path]?.[method]?.responses !== undefined }).toEqual({ path, method, documented: true });
    }
    const access = paths['/admin/v1/schools/{schoolId}/pupils/disclosures'].post;
    expect(Object.keys(access.responses['200'].content).sort()).toEqual(['application/json', 'text/csv']);
    expect(Object.keys(access.requestBody.content['application/json'].schema.properties)).toEqual(['studentKey']);
  });

  describe('retention', () => {
    it('purges exactly the rows of days older than LEDGER_RETENTION_DAYS (730) before the Dutch school day', async () => {
      const ref = 'e'.repeat(64);
      const today = schoolDay(clock.now());
      const daysAgo = (n: number) => schoolDay(Date.parse(`${today}T12:00:00Z`) - n * DAY_MS);
      const row = (day: string) => ({ school: '12AB', studentRef: ref, client: 'leesapp', supplier: 'uitgever-a', claims: ['grade'], day, count: 1 });
      await insertDisclosures(store.db, [732, 731, 730, 729, 0].map((n) => row(daysAgo(n))));
      const days = async () => (await ledgerRows(store.db, ref)).map((r) => r.day);

      await gateway.app.privacy!.purgeExpired();
      expect(await days()).toEqual([daysAgo(730), daysAgo(729), today]);
      clock.advance(DAY_MS);
      try {
        await gateway.app.privacy!.purgeExpired();
        expect(await days()).toEqual([daysAgo(729), today]);
      } finally {
        clock.advance(-DAY_MS);
      }
    });
  });
}
