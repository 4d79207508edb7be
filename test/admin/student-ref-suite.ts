import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daysBefore, insertDisclosures } from '../../src/privacy/disclosures.js';
import { moveLegacyRows } from '../../src/privacy/legacy-refs.js';
import { schoolDay } from '../../src/release/licence.js';
import type { Queryable } from '../../src/store/db.js';
import type { MemoryKv } from '../../src/store/memory-kv.js';
import { listMigrations, migrate } from '../../src/store/migrate.js';
import { parseSeed } from '../../src/store/seed-file.js';
import { importSeed } from '../../src/store/seed-import.js';
import { everyTableText } from './privacy-helpers.js';
import { adminClient, type AdminClient } from '../helpers/admin.js';
import { pageOf, refusedPage } from '../helpers/assertion-tests-util.js';
import { fullLogin, postAssertion, toSchool } from '../helpers/browser.js';
import { TestClock } from '../helpers/clock.js';
import type { TestDb } from '../helpers/db.js';
import { LEES_CB, makeWorld, PUPIL, REKEN_CB, TAAL_CB, type World } from '../helpers/fixture.js';
import { startGateway, TEST_SCRYPT, type TestGateway } from '../helpers/gateway.js';
import { TestPublisher } from '../helpers/publisher.js';
import { referenceRefs } from '../helpers/reference-pseudonym.js';
import { waitForJob } from '../helpers/resolution.js';

// The student ref from the root (docs/pseudonyms.md), run once per database
// adapter: what a dump of every table holds after logins, objections, an
// erasure and the admin jobs (with the master key, no cheap test of a guessed
// key), and the transition from the ref's first form: rows written by the
// previous release are found during it and move to the new ref at the pupil's
// next login, nothing lost or counted twice.

const BOOTSTRAP = 'bootstrap-token-0123456789-abcdefghijklmnopqrstuvwxyz';
const REKEN_CLAIMS = 'grade,group_names,groups,school';
const DAY_MS = 86_400_000;

const pupil = (key: string) => ({ ...PUPIL, sub: key });
const secretKey = (name: string) => `leerling-${name}-${randomBytes(5).toString('hex')}`;

interface Gw {
  world: World;
  gateway: TestGateway;
  school: AdminClient;
  reken: TestPublisher;
  lees: TestPublisher;
  taal: TestPublisher;
}

async function openGateway(world: World, store: TestDb, master: Buffer, clock: TestClock): Promise<Gw> {
  const gateway = await startGateway({ seed: world.seed, db: store.db, clock, masterKey: master, env: { OPERATOR_BOOTSTRAP_TOKEN: BOOTSTRAP, RATE_LIMIT_ADMIN_PER_MIN: '100000' } });
  return {
    world, gateway, school: adminClient(gateway.url, BOOTSTRAP),
    reken: await TestPublisher.create(gateway.url, 'rekenapp', REKEN_CB, { key: world.rekenKey }),
    lees: await TestPublisher.create(gateway.url, 'leesapp', LEES_CB, { key: world.leesKey }),
    taal: await TestPublisher.create(gateway.url, 'taalapp', TAAL_CB, { secret: world.taalSecret }),
  };
}

/** The publisher starts a login, the school signs an assertion for the pupil: the gateway's answer. */
async function attempt(gw: Gw, publisher: TestPublisher, key: string, now: number): Promise<Response> {
  const started = await publisher.startLogin({ school_hint: '12AB' });
  const step = await toSchool(gw.gateway, gw.world.regenboog, started.url);
  return postAssertion(step, await gw.world.regenboog.assertion(pupil(key), { nonce: step.nonce, aud: gw.gateway.url, now }));
}

const ledgerOf = (db: Queryable, ref: string) =>
  db.query<{ client: string; claims: string; day: string; count: number; version: number }>(
    'SELECT client_id AS client, claims, day::text AS day, count, ref_version AS version FROM disclosures WHERE student_ref = $1 ORDER BY day, client_id',
    [ref],
  );

export function defineStudentRefSuite(makeDb: () => Promise<TestDb>) {
  describe('a dump of every table, with the master key', () => {
    const master = randomBytes(32);
    const clock = new TestClock();
    const p = { reken: secretKey('dump-reken'), lees: secretKey('dump-lees'), bezwaar: secretKey('dump-bezwaar'), weg: secretKey('dump-weg'), rooster: secretKey('dump-rooster') };
    const refs = (key: string) => referenceRefs({ master, school: '12AB', studentKey: key, ...TEST_SCRYPT });
    let store: TestDb;
    let gw: Gw;

    beforeAll(async () => {
      store = await makeDb();
      gw = await openGateway(await makeWorld(), store, master, clock);
    }, 60_000);
    afterAll(async () => {
      await gw?.gateway.close();
      await store?.cleanup();
    });

    it('holds no HMAC(k_ref, input) of any pupil after logins, objections, an erasure and the jobs; the new ref only where the contract puts it', async () => {
      const { world, gateway, school } = gw;
      await fullLogin(gateway, world.regenboog, gw.reken, pupil(p.reken));
      await fullLogin(gateway, world.regenboog, gw.lees, pupil(p.lees));
      await fullLogin(gateway, world.regenboog, gw.lees, pupil(p.weg));
      expect((await school.post('/schools/12AB/objections', { studentKey: p.bezwaar, client: 'rekenapp' })).status).toBe(201);
      expect((await school.post('/schools/12AB/objections', { studentKey: p.reken, supplier: 'uitgever-b' })).status).toBe(201);
      expect(await pageOf(await attempt(gw, gw.reken, p.bezwaar, clock.now()))).toEqual(refusedPage('objection', 403));
      expect((await school.post('/schools/12AB/pupils/disclosures', { studentKey: p.reken })).body.disclosures).toHaveLength(1);
      expect((await school.post('/schools/12AB/pupils/erase', { studentKey: p.weg })).body).toEqual({ disclosures: 1, objections: 0, roster: 0 });
      const roster = Object.values(p);
      const resolution = await school.post('/schools/12AB/pseudonym-jobs', { supplier: 'uitgever-a', studentKeys: roster });
      await waitForJob(school, `/schools/12AB/pseudonym-jobs/${resolution.body.id}`);
      const today = schoolDay(clock.now());
      const breach = await school.post('/schools/12AB/breach-scope-jobs', { supplier: 'uitgever-a', from: today, until: today, studentKeys: roster });
      expect((await waitForJob(school, `/schools/12AB/breach-scope-jobs/${breach.body.id}`)).status).toBe('done');
      await gateway.app.privacy!.ledger.flushCounts();

      const dump = await everyTableText(store.db);
      const kv = gateway.kv as MemoryKv;
      const kvText = (await Promise.all(kv.keys().map(async (k) => `${k}=${await kv.get(k)}`))).join('\n');
      for (const key of roster) {
        const { ref, legacyRef } = refs(key);
        expect({ key, legacyInTables: dump.includes(legacyRef), legacyInKv: kvText.includes(legacyRef), keyInTables: dump.includes(key) })
          .toEqual({ key, legacyInTables: false, legacyInKv: false, keyInTables: false });
        expect(dump.includes(ref)).toBe(key === p.reken || key === p.lees || key === p.bezwaar);
      }
      // Where the contract names a pupil: the ledger and the objections, by the ref from the root.
      const named = await store.db.query<{ t: string; ref: string; version: number }>(
        `SELECT 'disclosures' AS t, student_ref AS ref, ref_version AS version FROM disclosures
         UNION ALL SELECT 'objections', student_ref, ref_version FROM objections ORDER BY 1, 2`,
      );
      expect(named).toEqual(expect.arrayContaining([
        { t: 'disclosures', ref: refs(p.reken).ref, version: 2 },
        { t: 'disclosures', ref: refs(p.lees).ref, version: 2 },
        { t: 'objections', ref: refs(p.bezwaar).ref, version: 2 },
        { t: 'objections', ref: refs(p.reken).ref, version: 2 },
      ]));
      expect(named).toHaveLength(4);
    });
  });

  describe('the transition from the first form of the ref', () => {
    const master = randomBytes(32);
    const clock = new TestClock();
    const p = { terug: secretKey('terug'), weg: secretKey('weg'), laat: secretKey('laat'), oud: secretKey('oud') };
    const refs = (key: string) => referenceRefs({ master, school: '12AB', studentKey: key, ...TEST_SCRYPT });
    const day = (daysAgo: number) => daysBefore(schoolDay(clock.now()), daysAgo);
    let store: TestDb;
    let gw: Gw;

    /** A ledger row as the previous release wrote it: no ref_version (the migration's default labels it). */
    const oldDisclosure = (key: string, client: string, supplier: string, claims: string, daysAgo: number, count: number) =>
      store.db.query('INSERT INTO disclosures (school_id, student_ref, client_id, supplier_id, claims, day, count) VALUES ($1, $2, $3, $4, $5, $6::date, $7)',
        ['12AB', refs(key).legacyRef, client, supplier, claims, day(daysAgo), count]);
    const oldObjection = (key: string, against: { client?: string; supplier?: string }) =>
      store.db.query('INSERT INTO objections (id, school_id, student_ref, client_id, supplier_id) VALUES (gen_random_uuid(), $1, $2, $3, $4)',
        ['12AB', refs(key).legacyRef, against.client ?? null, against.supplier ?? null]);

    beforeAll(async () => {
      const world = await makeWorld();
      store = await makeDb();
      // The database as the previous release left it: registrations, ledger rows and objections by the first form.
      await importSeed(store.db, parseSeed(world.seed));
      await oldDisclosure(p.terug, 'rekenapp', 'uitgever-a', REKEN_CLAIMS, 0, 3);
      await oldDisclosure(p.terug, 'rekenapp', 'uitgever-a', REKEN_CLAIMS, 10, 2);
      await oldDisclosure(p.terug, 'leesapp', 'uitgever-a', 'grade', 20, 1);
      await oldObjection(p.terug, { client: 'taalapp' });
      await oldDisclosure(p.weg, 'rekenapp', 'uitgever-a', REKEN_CLAIMS, 30, 4);
      await oldObjection(p.weg, { supplier: 'uitgever-b' });
      await oldDisclosure(p.oud, 'leesapp', 'uitgever-a', 'grade', 729, 1);
      gw = await openGateway(world, store, master, clock);
      // What the start read in the background, read again to be sure it is done.
      await gw.gateway.app.privacy!.refTransition.load();
    }, 60_000);
    afterAll(async () => {
      await gw?.gateway.close();
      await store?.cleanup();
    });

    it('finds the old rows through the admin routes under both forms while they wait', async () => {
      const access = await gw.school.post('/schools/12AB/pupils/disclosures', { studentKey: p.terug });
      expect(access.body).toEqual({
        disclosures: [
          { client: 'leesapp', clientName: 'Leesapp', supplier: 'uitgever-a', supplierName: 'Uitgever A', claims: ['grade'], firstDay: day(20), lastDay: day(20), count: 1 },
          { client: 'rekenapp', clientName: 'Rekenapp', supplier: 'uitgever-a', supplierName: 'Uitgever A', claims: REKEN_CLAIMS.split(','), firstDay: day(10), lastDay: day(0), count: 5 },
        ],
        objections: [{ id: expect.any(String), client: 'taalapp', createdAt: expect.any(String) }],
        roster: null,
      });
      const breach = await gw.school.post('/schools/12AB/breach-scope', { supplier: 'uitgever-a', from: day(30), until: day(0), studentKeys: [p.laat, p.weg, p.terug] });
      expect(breach.body).toEqual({
        affected: [
          { studentKey: p.weg, clients: ['rekenapp'], claims: REKEN_CLAIMS.split(','), firstDay: day(30), lastDay: day(30) },
          { studentKey: p.terug, clients: ['leesapp', 'rekenapp'], claims: REKEN_CLAIMS.split(','), firstDay: day(20), lastDay: day(0) },
        ],
        rosterSize: 3,
        affectedCount: 2,
      });
      // The same objection again is the one the pupil has already.
      expect((await gw.school.post('/schools/12AB/objections', { studentKey: p.terug, client: 'taalapp' })).status).toBe(409);
    });

    it("moves a returning pupil's rows to the new ref at the next login: counts merged, nothing lost or counted twice", async () => {
      const before = (await gw.school.post('/schools/12AB/pupils/disclosures', { studentKey: p.terug })).body;
      await fullLogin(gw.gateway, gw.world.regenboog, gw.reken, pupil(p.terug));
      const { ref, legacyRef } = refs(p.terug);
      expect(await ledgerOf(store.db, legacyRef)).toEqual([]);
      expect(await ledgerOf(store.db, ref)).toEqual([
        { client: 'leesapp', claims: 'grade', day: day(20), count: 1, version: 2 },
        { client: 'rekenapp', claims: REKEN_CLAIMS, day: day(10), count: 2, version: 2 },
        // 3 under the first form, 1 for this login.
        { client: 'rekenapp', claims: REKEN_CLAIMS, day: day(0), count: 4, version: 2 },
      ]);
      expect(await store.db.query('SELECT id, ref_version AS version FROM objections WHERE student_ref = $1', [ref])).toEqual([{ id: before.objections[0].id, version: 2 }]);
      expect(await store.db.query('SELECT 1 FROM objections WHERE student_ref = $1', [legacyRef])).toEqual([]);

      // Once per pupil and process: the next login only counts.
      await fullLogin(gw.gateway, gw.world.regenboog, gw.reken, pupil(p.terug));
      await gw.gateway.app.privacy!.ledger.flushCounts();
      const after = (await gw.school.post('/schools/12AB/pupils/disclosures', { studentKey: p.terug })).body;
      expect(after).toEqual({
        disclosures: [before.disclosures[0], { ...before.disclosures[1], count: before.disclosures[1].count + 2 }],
        objections: before.objections,
        roster: null,
      });
      expect(gw.gateway.app.privacy!.refTransition.stats.movedPupils).toBe(1);
      // The moved objection still stops its product.
      expect(await pageOf(await attempt(gw, gw.taal, p.terug, clock.now()))).toEqual(refusedPage('objection', 403));
    });

    it('stops a login with an objection under the first form that the start-up did not see (a rolling upgrade)', async () => {
      await oldObjection(p.laat, { client: 'rekenapp' });
      // Any committed change reloads the registry snapshot, objections included.
      expect((await gw.school.post('/schools/12AB/objections', { studentKey: secretKey('ander'), client: 'leesapp' })).status).toBe(201);
      expect(await pageOf(await attempt(gw, gw.reken, p.laat, clock.now()))).toEqual(refusedPage('objection', 403));
      expect((await attempt(gw, gw.lees, p.laat, clock.now())).status).toBe(303);
    });

    it('erases a pupil who never returned under the first form; retention ages out the rest', async () => {
      expect((await gw.school.post('/schools/12AB/pupils/erase', { studentKey: p.weg })).body).toEqual({ disclosures: 1, objections: 1, roster: 0 });
      expect((await store.db.query('SELECT 1 FROM objections WHERE student_ref = $1', [refs(p.weg).legacyRef]))).toEqual([]);
      expect(await ledgerOf(store.db, refs(p.oud).legacyRef)).toHaveLength(1);
      clock.advance(2 * DAY_MS);
      try {
        await gw.gateway.app.privacy!.purgeExpired();
        expect(await ledgerOf(store.db, refs(p.oud).legacyRef)).toEqual([]);
      } finally {
        clock.advance(-2 * DAY_MS);
      }
    });

    it('counts each row once when two moves of one pupil run at once', async () => {
      const key = secretKey('tweemaal');
      await oldDisclosure(key, 'leesapp', 'uitgever-a', 'grade', 5, 7);
      await oldDisclosure(key, 'rekenapp', 'uitgever-a', REKEN_CLAIMS, 5, 1);
      await store.db.query('INSERT INTO disclosures (school_id, student_ref, client_id, supplier_id, claims, day, count, ref_version) VALUES ($1, $2, $3, $4, $5, $6::date, $7, 2)',
        ['12AB', refs(key).ref, 'leesapp', 'uitgever-a', 'grade', day(5), 2]);
      const moved = await Promise.all([1, 2, 3].map(() => moveLegacyRows(store.db, '12AB', refs(key).legacyRef, refs(key).ref)));
      expect(moved.map((m) => m.disclosures).sort()).toEqual([0, 0, 2]);
      expect(await ledgerOf(store.db, refs(key).ref)).toEqual([
        { client: 'leesapp', claims: 'grade', day: day(5), count: 9, version: 2 },
        { client: 'rekenapp', claims: REKEN_CLAIMS, day: day(5), count: 1, version: 2 },
      ]);
    });
  });

  describe('migration 004', () => {
    it('labels the rows of the previous release as the first form, and this release writes the second', async () => {
      const store = await makeDb();
      try {
        // A database the previous release migrated: drop what migrate() did, apply 001 and 002 only.
        await store.db.exec('DROP SCHEMA public CASCADE; CREATE SCHEMA public;');
        const [first, second] = await listMigrations();
        await store.db.exec(`${first!.sql}\n${second!.sql}`);
        await store.db.exec(`CREATE TABLE schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());
          INSERT INTO schema_migrations (name) VALUES ('${first!.name}'), ('${second!.name}');`);
        await store.db.query("INSERT INTO disclosures (school_id, student_ref, client_id, supplier_id, claims, day, count) VALUES ('12AB', $1, 'leesapp', 'uitgever-a', 'grade', '2026-11-02', 1)", ['a'.repeat(64)]);
        expect(await migrate(store.db)).toContain('004_student_ref_from_root.sql');
        await insertDisclosures(store.db, [{ school: '12AB', studentRef: 'b'.repeat(64), client: 'leesapp', supplier: 'uitgever-a', claims: ['grade'], day: '2026-11-02', count: 1 }]);
        expect(await store.db.query('SELECT student_ref, ref_version FROM disclosures ORDER BY student_ref')).toEqual([
          { student_ref: 'a'.repeat(64), ref_version: 1 },
          { student_ref: 'b'.repeat(64), ref_version: 2 },
        ]);
      } finally {
        await store.db.close();
        await store.cleanup();
      }
    });
  });
}
