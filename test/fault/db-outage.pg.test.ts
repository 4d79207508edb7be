import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgDb } from '../../src/store/pg-db.js';
import { migrate } from '../../src/store/migrate.js';
import { adminClient, type AdminClient } from '../helpers/admin.js';
import { fullLogin, get, postAssertion, toSchool } from '../helpers/browser.js';
import { freshPgDatabaseBehindProxy, type freshPgDatabase } from '../helpers/db.js';
import { LEES_CB, makeWorld, PUPIL, type World } from '../helpers/fixture.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { TestPublisher } from '../helpers/publisher.js';
import type { TcpProxy } from '../helpers/tcp-proxy.js';

// docs/failure-behaviour.md: with the database unreachable, logins continue from the
// snapshot and admin writes answer 503 with Retry-After; when it is back, admin
// writes work again without a restart. The gateway reaches a real PostgreSQL
// through a loopback proxy this test cuts and restores.
// docs/privacy.md bounds the first rule: a login whose disclosure is not
// yet in the ledger (a new pupil, client, claim set or day) cannot be recorded
// while the database is away, so it fails closed; a release already recorded
// today needs no write and goes on.

const BOOTSTRAP = 'bootstrap-token-0123456789-abcdefghijklmnopqrstuvwxyz';

describe('database outage', () => {
  let world: World;
  let database: Awaited<ReturnType<typeof freshPgDatabase>>;
  let proxy: TcpProxy;
  let gateway: TestGateway;
  let operator: AdminClient;
  let lees: TestPublisher;
  let licenceId: string;
  const METRICS = 'metrics-token-0123456789-abcdefghijklmnop';
  /** pgw_db_errors_total over every operation, from the gateway's own /metrics. */
  const dbErrors = async () => {
    const text = await (await fetch(`${gateway.url}/metrics`, { headers: { authorization: `Bearer ${METRICS}` } })).text();
    return [...text.matchAll(/^pgw_db_errors_total\{[^}]*\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
  };

  /** The authorization codes the gateway holds (its KV is in memory here). */
  const codeKeys = async () => (gateway.kv as unknown as { keys(): string[] }).keys().filter((k) => k.startsWith('code:')).sort();

  beforeAll(async () => {
    world = await makeWorld();
    let viaProxy: string;
    ({ database, proxy, viaProxy } = await freshPgDatabaseBehindProxy());
    const db = PgDb.open(viaProxy);
    await migrate(db);
    // A refresh every second: the outage must meet failing refreshes, which keep the last snapshot.
    gateway = await startGateway({ seed: world.seed, db, env: { OPERATOR_BOOTSTRAP_TOKEN: BOOTSTRAP, REGISTRY_REFRESH_SECONDS: '1', METRICS_TOKEN: METRICS } });
    operator = adminClient(gateway.url, BOOTSTRAP);
    lees = await TestPublisher.create(gateway.url, 'leesapp', LEES_CB, { key: world.leesKey });
    licenceId = (await operator.get('/schools/12AB/licences')).body.items.find((l: { client: string }) => l.client === 'leesapp').id;
  });
  afterAll(async () => {
    await gateway?.close();
    await proxy?.cut();
    await database?.drop();
  });

  it('keeps logins working from the snapshot, answers admin writes 503 + Retry-After, and recovers when the database is back', async () => {
    // Recorded before the outage: the same release later today needs no ledger write.
    expect((await fullLogin(gateway, world.regenboog, lees, PUPIL)).claims.grade).toBe(8);
    await proxy.cut();
    const refreshFailed = () => gateway.logs.some((l) => l.includes('registry refresh failed; logins continue on the last snapshot'));
    for (let i = 0; i < 100 && !refreshFailed(); i++) await new Promise((r) => setTimeout(r, 100));
    expect(refreshFailed()).toBe(true);

    const during = await fullLogin(gateway, world.regenboog, lees, PUPIL);
    expect(during.claims.grade).toBe(8);
    // Ready all the same: the database check is reported, not critical .
    const ready = await get(`${gateway.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { kv: 'ok', snapshot: 'ok', database: 'unavailable' } });
    expect(await dbErrors()).toBeGreaterThan(0);

    const write = await operator.put(`/schools/12AB/licences/${licenceId}`, { client: 'leesapp', claims: ['school', 'grade'] });
    expect(write.status).toBe(503);
    expect(write.headers.get('retry-after')).toBe('5');
    expect(write.headers.get('content-type')).toContain('application/problem+json');
    expect(write.body).toEqual({ type: 'urn:pgw:problem:unavailable', title: 'A dependency (database or Redis) is temporarily unavailable, try again shortly', status: 503 });
    const create = await operator.post('/suppliers', { id: 'uitgever-z', name: 'Z' });
    expect(create.status).toBe(503);
    // The failed write changed nothing the logins see.
    expect((await fullLogin(gateway, world.regenboog, lees, PUPIL)).claims.school).toBeUndefined();

    // A release not yet in the ledger cannot be recorded: 503 page, no code, nothing for the publisher.
    const codesBefore = await codeKeys();
    const started = await lees.startLogin({ school_hint: world.regenboog.id });
    const step = await toSchool(gateway, world.regenboog, started.url);
    const unrecorded = await postAssertion(step, await world.regenboog.assertion({ ...PUPIL, sub: 'leerling-nieuw' }, { nonce: step.nonce, aud: gateway.url }));
    expect(unrecorded.status).toBe(503);
    expect(unrecorded.headers.get('retry-after')).toBe('5');
    expect(unrecorded.headers.get('location')).toBeNull();
    expect(await unrecorded.text()).toContain('<code>temporarily_unavailable</code>');
    expect(await codeKeys()).toEqual(codesBefore);

    await proxy.restore();

    const recovered = await operator.put(`/schools/12AB/licences/${licenceId}`, { client: 'leesapp', claims: ['school', 'grade'] });
    expect(recovered.status).toBe(200);
    expect((await fullLogin(gateway, world.regenboog, lees, PUPIL)).claims.school).toBe('12AB');
    expect(await (await get(`${gateway.url}/readyz`)).json()).toMatchObject({ checks: { database: 'ok' } });
    // The pupil refused during the outage logs in now, and the ledger has the release.
    expect((await fullLogin(gateway, world.regenboog, lees, { ...PUPIL, sub: 'leerling-nieuw' })).claims.school).toBe('12AB');
    const db = PgDb.open(database.url);
    try {
      const rows = await db.query<{ claims: string; n: number }>("SELECT claims, count(*)::int AS n FROM disclosures WHERE client_id = 'leesapp' GROUP BY claims ORDER BY claims");
      // PUPIL: grade (twice: before and during the outage), then grade+school; the new pupil: grade+school.
      expect(rows).toEqual([{ claims: 'grade', n: 1 }, { claims: 'grade,school', n: 2 }]);
    } finally {
      await db.close();
    }
  });
});
