import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgDb } from '../../src/store/pg-db.js';
import { migrate } from '../../src/store/migrate.js';
import { adminClient, type AdminClient } from '../helpers/admin.js';
import { fullLogin, get } from '../helpers/browser.js';
import { databaseUrl, freshPgDatabase } from '../helpers/db.js';
import { LEES_CB, makeWorld, PUPIL, type World } from '../helpers/fixture.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { TestPublisher } from '../helpers/publisher.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

// DESIGN.md section 9: with the database unreachable, logins continue from the
// snapshot and admin writes answer 503 with Retry-After; when it is back, admin
// writes work again without a restart. The gateway reaches a real PostgreSQL
// through a loopback proxy this test cuts and restores.

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

  beforeAll(async () => {
    world = await makeWorld();
    database = await freshPgDatabase();
    const real = new URL(databaseUrl());
    proxy = await TcpProxy.start({ host: real.hostname, port: Number(real.port || 5432) });
    const viaProxy = new URL(database.url);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    const db = PgDb.open(viaProxy.toString());
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
    await proxy.cut();
    const refreshFailed = () => gateway.logs.some((l) => l.includes('registry refresh failed; logins continue on the last snapshot'));
    for (let i = 0; i < 100 && !refreshFailed(); i++) await new Promise((r) => setTimeout(r, 100));
    expect(refreshFailed()).toBe(true);

    const during = await fullLogin(gateway, world.regenboog, lees, PUPIL);
    expect(during.claims.grade).toBe(8);
    // Ready all the same: the database check is reported, not critical (issue 6).
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

    await proxy.restore();

    const recovered = await operator.put(`/schools/12AB/licences/${licenceId}`, { client: 'leesapp', claims: ['school', 'grade'] });
    expect(recovered.status).toBe(200);
    expect((await fullLogin(gateway, world.regenboog, lees, PUPIL)).claims.school).toBe('12AB');
    expect(await (await get(`${gateway.url}/readyz`)).json()).toMatchObject({ checks: { database: 'ok' } });
  });
});
