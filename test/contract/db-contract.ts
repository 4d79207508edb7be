import { afterAll, beforeAll, expect, it } from 'vitest';
import { ConstraintError, type Db } from '../../src/store/db.js';
import { listMigrations, migrate } from '../../src/store/migrate.js';
import { hashSecret } from '../../src/store/registry.js';
import { parseSeed } from '../../src/store/seed-file.js';
import { importSeed } from '../../src/store/seed-import.js';
import { RegistrySnapshot } from '../../src/store/snapshot.js';
import { makeWorld, type World } from '../helpers/fixture.js';

// The durable-store contract, run against every Db adapter (PGlite here,
// PostgreSQL in the pg project): migrations, the seed import, the snapshot.

export interface DbFactory {
  /** Two connections to one fresh, unmigrated database. */
  openPair(): Promise<{ a: Db; b: Db; cleanup: () => Promise<void> }>;
}

export function defineDbContract(factory: DbFactory) {
  let db: Db;
  let other: Db;
  let cleanup: () => Promise<void>;
  let world: World;

  beforeAll(async () => {
    const pair = await factory.openPair();
    db = pair.a;
    other = pair.b;
    cleanup = pair.cleanup;
    world = await makeWorld();
  }, 60_000);
  afterAll(async () => {
    await cleanup?.();
  });

  it('applies each migration once, also when two processes start at once', async () => {
    const all = (await listMigrations()).map((m) => m.name);
    expect(all.slice(0, 3)).toEqual(['001_registrations.sql', '002_privacy.sql', '003_launch_opt_in.sql']);
    const [first, second] = await Promise.all([migrate(db), migrate(other)]);
    expect([...first, ...second].sort()).toEqual(all);
    expect(await migrate(db)).toEqual([]);
    const rows = await db.query<{ name: string }>('SELECT name FROM schema_migrations');
    expect(rows.map((r) => r.name).sort()).toEqual(all);
  });

  it('migration 003: schools registered before the launch switch keep their launch; later ones do not get it', async () => {
    const migration = (await listMigrations()).find((m) => m.name === '003_launch_opt_in.sql')!;
    await db.transaction(async (tx) => {
      await tx.query(`INSERT INTO schools (id, doc) VALUES ('99ZZ', '{"id":"99ZZ","name":"Oud"}'), ('98ZZ', '{"id":"98ZZ","name":"Uit","allowLaunch":false}')`);
      await tx.exec(migration.sql);
      const docs = await tx.query<{ id: string; doc: { allowLaunch?: boolean } }>(`SELECT id, doc FROM schools WHERE id IN ('99ZZ', '98ZZ') ORDER BY id`);
      expect(docs.map((r) => [r.id, r.doc.allowLaunch])).toEqual([['98ZZ', false], ['99ZZ', true]]);
      await tx.query(`DELETE FROM schools WHERE id IN ('99ZZ', '98ZZ')`);
    });
  });

  it('imports the seed idempotently: a second import changes and audits nothing', async () => {
    const seed = parseSeed(world.seed);
    const first = await importSeed(db, seed);
    expect(first.changes).toBe(2 + 2 + 3 + 4);
    const audits = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_events');
    const again = await importSeed(other, seed);
    expect(again.changes).toBe(0);
    expect(await db.query('SELECT count(*)::int AS n FROM audit_events')).toEqual(audits);
    expect(await db.query('SELECT count(*)::int AS n FROM licences')).toEqual([{ n: 4 }]);
  });

  it('stores a client secret only as its hash, and the snapshot authenticates with it', async () => {
    const dump = JSON.stringify(await db.query('SELECT doc FROM clients'));
    expect(dump).not.toContain(world.taalSecret);
    const snapshot = await RegistrySnapshot.load(db);
    expect(snapshot.registry().clients.get('taalapp')?.secretHash).toEqual(hashSecret(world.taalSecret));
    expect(snapshot.registry().licencesFor('12AB', 'rekenapp')).toEqual([
      { school: '12AB', client: 'rekenapp', claims: ['school', 'grade', 'groups', 'group_names'], groups: ['8a'], grades: [7] },
    ]);
    expect(snapshot.registry().licencesFor('12AB', 'taalapp')[0]).toMatchObject({ validFrom: '2020-01-01', validUntil: '2099-12-31' });
  });

  it('keeps the registry object while nothing changed, and replaces it after a change', async () => {
    const snapshot = await RegistrySnapshot.load(db);
    const before = snapshot.registry();
    expect(await snapshot.refresh()).toBe(false);
    expect(snapshot.registry()).toBe(before);
    const seed = parseSeed({ ...world.seed, licences: [{ school: '34CD01', client: 'taalapp', claims: ['school', 'role'] }] });
    expect((await importSeed(db, seed)).changes).toBe(1);
    expect(await snapshot.refresh()).toBe(true);
    expect(snapshot.registry().licencesFor('34CD01', 'taalapp')).toEqual([{ school: '34CD01', client: 'taalapp', claims: ['school', 'role'] }]);
  });

  it('rolls a failed transaction back and reports integrity conflicts as ConstraintError', async () => {
    await expect(
      db.transaction(async (tx) => {
        await tx.query("INSERT INTO suppliers (id, doc) VALUES ('rollback-me', '{}'::jsonb)");
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await db.query("SELECT id FROM suppliers WHERE id = 'rollback-me'")).toEqual([]);
    await expect(db.query("DELETE FROM suppliers WHERE id = 'uitgever-a'")).rejects.toBeInstanceOf(ConstraintError);
  });
}
