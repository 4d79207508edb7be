import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { UnavailableError } from '../../src/errors.js';
import type { Disclosure } from '../../src/privacy/disclosures.js';
import { createLedger, LEDGER_MARKER_TTL_MS, ledgerMarkerKey, type DisclosureLedger } from '../../src/privacy/ledger.js';
import type { Db, Queryable } from '../../src/store/db.js';
import { MemoryKv } from '../../src/store/memory-kv.js';
import { TestClock } from '../helpers/clock.js';
import type { TestDb } from '../helpers/db.js';

// The disclosure ledger (docs/privacy.md) against a real
// database: durable before record() resolves, one row per (pupil, client,
// claim set, day), repeats counted without a write, new rows group-committed,
// failures surfaced as UnavailableError with nothing marked.

const row = (over: Partial<Disclosure> = {}): Disclosure => ({
  school: '12AB', studentRef: 'a'.repeat(64), client: 'leesapp', supplier: 'uitgever-b', claims: ['grade', 'school'], day: '2026-11-23', ...over,
});

/** The database, counting the statements that write the ledger and able to fail on demand. */
function watched(db: Db) {
  const stats = { inserts: 0, updates: 0, failing: false };
  const q: Queryable = {
    query: async (sql, params) => {
      if (stats.failing) throw new UnavailableError(new Error('database away'));
      if (sql.includes('INSERT INTO disclosures')) stats.inserts++;
      if (sql.includes('UPDATE disclosures')) stats.updates++;
      return db.query(sql, params);
    },
    exec: (sql) => db.exec(sql),
  };
  return { q, stats };
}

export function defineLedgerSuite(makeDb: () => Promise<TestDb>) {
  let store: TestDb;
  let db: ReturnType<typeof watched>;
  let kv: MemoryKv;
  let ledger: DisclosureLedger;
  const clock = new TestClock();
  const open = () => createLedger({ db: db.q, kv, countFlushMs: 3_600_000 });
  const rows = () => store.db.query<{ student_ref: string; claims: string; day: string; count: number }>(
    'SELECT student_ref, claims, day::text AS day, count FROM disclosures ORDER BY student_ref, claims, day',
  );

  beforeAll(async () => {
    store = await makeDb();
  }, 60_000);
  afterAll(async () => {
    await store?.db.close();
    await store?.cleanup();
  });
  beforeEach(async () => {
    await store.db.query('DELETE FROM disclosures');
    db = watched(store.db);
    clock.reset();
    kv = new MemoryKv(clock);
    ledger = open();
  });

  describe('disclosure ledger', () => {
    it('makes a new release durable before it resolves, and marks it for every process', async () => {
      await ledger.record(row());
      expect(await rows()).toEqual([{ student_ref: 'a'.repeat(64), claims: 'grade,school', day: '2026-11-23', count: 1 }]);
      expect(await kv.get(ledgerMarkerKey(row()))).toBe('1');
      // The marker outlives the day, then goes (every KV key has a TTL).
      clock.advance(LEDGER_MARKER_TTL_MS - 1000);
      expect(await kv.get(ledgerMarkerKey(row()))).toBe('1');
      clock.advance(2000);
      expect(await kv.get(ledgerMarkerKey(row()))).toBeNull();
    });

    it('counts repeats of a recorded row without writing, and adds the counts on flush', async () => {
      await ledger.record(row());
      for (let i = 0; i < 5; i++) await ledger.record(row({ claims: ['school', 'grade'] }));
      expect(db.stats).toMatchObject({ inserts: 1, updates: 0 });
      expect((await rows())[0]!.count).toBe(1);
      await ledger.flushCounts();
      expect(db.stats.updates).toBe(1);
      expect((await rows())[0]!.count).toBe(6);
    });

    it('another process (same KV, its own memory) sees the marker and writes nothing', async () => {
      await ledger.record(row());
      const other = open();
      await other.record(row());
      expect(db.stats.inserts).toBe(1);
      await other.flushCounts();
      expect((await rows())[0]!.count).toBe(2);
      await other.close();
    });

    it('a new day, client or claim set is a new row', async () => {
      await ledger.record(row());
      await ledger.record(row({ day: '2026-11-24' }));
      await ledger.record(row({ client: 'rekenapp' }));
      await ledger.record(row({ claims: ['grade'] }));
      expect(await store.db.query('SELECT 1 FROM disclosures')).toHaveLength(4);
    });

    it('group-commits concurrent new rows, and counts concurrent releases of one new row together', async () => {
      const refs = Array.from({ length: 40 }, (_, i) => i.toString(16).padStart(64, '0'));
      await Promise.all([...refs.map((studentRef) => ledger.record(row({ studentRef }))), ...Array.from({ length: 9 }, () => ledger.record(row()))]);
      const all = await rows();
      expect(all).toHaveLength(41);
      expect(all.find((r) => r.student_ref === 'a'.repeat(64))!.count).toBe(9);
      expect(all.filter((r) => r.student_ref !== 'a'.repeat(64)).every((r) => r.count === 1)).toBe(true);
      // 49 releases, far fewer statements: the first batch holds one, the next all that queued meanwhile.
      expect(db.stats.inserts).toBeLessThanOrEqual(3);
    });

    it('fails closed: a write that fails rejects with UnavailableError and marks nothing', async () => {
      db.stats.failing = true;
      await expect(ledger.record(row())).rejects.toBeInstanceOf(UnavailableError);
      expect(await kv.get(ledgerMarkerKey(row()))).toBeNull();
      db.stats.failing = false;
      expect(await rows()).toEqual([]);
      await ledger.record(row());
      expect(await rows()).toHaveLength(1);
    });

    it('keeps counts it could not add, and adds them once the database is back', async () => {
      await ledger.record(row());
      await ledger.record(row());
      db.stats.failing = true;
      await ledger.flushCounts();
      await ledger.record(row());
      db.stats.failing = false;
      await ledger.flushCounts();
      expect((await rows())[0]!.count).toBe(3);
    });

    it('never recreates an erased row from counts, and forgets a pupil on request', async () => {
      await ledger.record(row());
      await ledger.record(row());
      await store.db.query('DELETE FROM disclosures');
      await kv.del(ledgerMarkerKey(row()));
      await ledger.flushCounts();
      expect(await rows()).toEqual([]);
      // Without forget() this process would still take the row for recorded.
      ledger.forget(row().studentRef);
      await ledger.record(row());
      expect(await rows()).toHaveLength(1);
    });
  });
}
