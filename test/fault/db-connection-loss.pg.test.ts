import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminCall } from '../helpers/admin.js';
import { fullLogin, type GatewayView } from '../helpers/browser.js';
import { databaseUrl, freshPgDatabaseBehindProxy, type freshPgDatabase } from '../helpers/db.js';
import { LEES_CB, makeWorld, PUPIL, type World } from '../helpers/fixture.js';
import { GatewayProcess } from '../helpers/gateway-process.js';
import { TestPublisher } from '../helpers/publisher.js';
import type { TcpProxy } from '../helpers/tcp-proxy.js';

// A PostgreSQL connection that ends while an admin write holds it (the backend
// terminated by an operator or a failover, the TCP connection reset) once
// ended the whole process: the client held for the transaction had no error
// listener. Now the write answers 503 problem+json, the connection is dropped
// from the pool, and the process and its logins carry on. The gateway runs as
// operators run it (src/main.ts in a child process), on a fresh database of its
// own, reached through a loopback proxy the test can reset.

const BOOTSTRAP = 'bootstrap-token-0123456789-abcdefghijklmnopqrstuvwxyz';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Tally {
  ok: string[];
  unavailable: string[];
  other: string[];
}

describe('PostgreSQL connections ending during admin writes', () => {
  let world: World;
  let database: Awaited<ReturnType<typeof freshPgDatabase>>;
  let proxy: TcpProxy;
  let gateway: GatewayProcess;
  let login: GatewayView;
  let lees: TestPublisher;
  /** A connection of the test's own to the server, outside the gateway's database. */
  let control: pg.Client;
  let written = 0;

  beforeAll(async () => {
    world = await makeWorld();
    let viaProxy: string;
    ({ database, proxy, viaProxy } = await freshPgDatabaseBehindProxy());
    const dir = await mkdtemp(join(tmpdir(), 'pgw-db-loss-'));
    await writeFile(join(dir, 'seed.json'), JSON.stringify(world.seed));
    gateway = await GatewayProcess.start({
      DATA_DIR: join(dir, 'data'), DATABASE_URL: viaProxy, REDIS_URL: '', SEED_FILE: join(dir, 'seed.json'),
      PSEUDONYM_MASTER_KEY: randomBytes(32).toString('base64'), PSEUDONYM_SCRYPT_N: '1024',
      OPERATOR_BOOTSTRAP_TOKEN: BOOTSTRAP, RATE_LIMIT_ADMIN_PER_MIN: '1000000',
      RATE_LIMIT_ASSERTION_PER_MIN: '1000000', RATE_LIMIT_TOKEN_PER_MIN: '1000000', RATE_LIMIT_TOKEN_IP_PER_MIN: '1000000',
    });
    login = await gateway.asLoginTarget();
    lees = await TestPublisher.create(gateway.url, 'leesapp', LEES_CB, { key: world.leesKey });
    control = new pg.Client({ connectionString: databaseUrl() });
    await control.connect();
  });
  afterAll(async () => {
    await gateway?.stop();
    await control?.end();
    await proxy?.cut();
    await database?.drop();
  });

  /** The process's error and fatal log lines: why it exited, if it did. */
  const errorLines = () => gateway.output.join('').split('\n').filter((l) => /"level":(50|60)/.test(l)).join('\n').slice(0, 3000);
  const databaseName = () => new URL(database.url).pathname.slice(1);
  const terminateBackends = async () =>
    (await control.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [databaseName()])).rowCount ?? 0;

  /** `fault` every 50-200 ms until `until`, or until the gateway has exited. */
  async function faultUntil(until: number, fault: () => Promise<void>): Promise<void> {
    while (Date.now() < until && gateway.exitCode === undefined) {
      await sleep(50 + Math.random() * 150);
      await fault();
    }
  }

  /** Writers creating suppliers one after another until `until`, sorting every answer. */
  async function writeUntil(until: number, tally: Tally, writers = 2): Promise<void> {
    await Promise.all(Array.from({ length: writers }, async () => {
      while (Date.now() < until && gateway.exitCode === undefined) {
        const id = `fault-${written++}`;
        const res = await adminCall(gateway.url, BOOTSTRAP, 'POST', '/suppliers', { id, name: 'Fault' }).catch((err: Error) => err);
        if (res instanceof Error) {
          tally.other.push(`${id}: ${res.message}`);
          continue;
        }
        if (res.status === 201) tally.ok.push(id);
        else if (res.status === 503 && res.headers.get('content-type')?.startsWith('application/problem+json') && res.body?.type === 'urn:pgw:problem:unavailable' && res.headers.get('retry-after')) tally.unavailable.push(id);
        else tally.other.push(`${id}: ${res.status} ${res.text.slice(0, 200)}`);
      }
    }));
  }

  /** Logins of a known pupil, one after another until `until`; every failure is kept. */
  async function logInUntil(until: number): Promise<{ logins: number; failures: string[] }> {
    const failures: string[] = [];
    let logins = 0;
    while (Date.now() < until && gateway.exitCode === undefined) {
      try {
        expect((await fullLogin(login, world.regenboog, lees, PUPIL)).claims.grade).toBe(8);
        logins++;
      } catch (err) {
        failures.push(err instanceof Error ? err.message.slice(0, 300) : String(err));
      }
    }
    return { logins, failures };
  }

  /** Suppliers this test created, as the database has them, and their create events. */
  async function committed(): Promise<{ suppliers: Set<string>; audited: number }> {
    const db = new pg.Client({ connectionString: database.url });
    await db.connect();
    try {
      const suppliers = (await db.query<{ id: string }>("SELECT id FROM suppliers WHERE id LIKE 'fault-%'")).rows.map((r) => r.id);
      const audited = (await db.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_events WHERE action = 'supplier.create' AND target LIKE 'supplier:fault-%'")).rows[0]!.n;
      return { suppliers: new Set(suppliers), audited };
    } finally {
      await db.end();
    }
  }

  /** The database is usable again: a write goes through (the pool replaced its broken connections). */
  async function recovered(tally: Tally): Promise<void> {
    for (const deadline = Date.now() + 15_000; Date.now() < deadline && gateway.exitCode === undefined;) {
      await writeUntil(Date.now() + 1, tally, 1);
      if (tally.ok.length && tally.ok.at(-1) === `fault-${written - 1}`) return;
      await sleep(200);
    }
    // An exited process is reported by the caller's first assertion, with its output.
    if (gateway.exitCode === undefined) throw new Error('admin writes did not recover within 15 s');
  }

  it('30 s of admin writes while backends are terminated: each write succeeds or answers 503, the audit matches the successes, the process and its logins carry on', async () => {
    // The release is recorded before the faults: the same release later today needs no database write.
    expect((await fullLogin(login, world.regenboog, lees, PUPIL)).claims.grade).toBe(8);
    const tally: Tally = { ok: [], unavailable: [], other: [] };
    const until = Date.now() + 30_000;
    let terminated = 0;
    const killer = faultUntil(until, async () => void (terminated += await terminateBackends()));
    const [, , logins] = await Promise.all([killer, writeUntil(until, tally), logInUntil(until)]);
    await recovered(tally);

    expect(gateway.exitCode, errorLines()).toBeUndefined();
    expect(tally.other.slice(0, 10)).toEqual([]);
    expect(logins.failures.slice(0, 10)).toEqual([]);
    const { suppliers, audited } = await committed();
    // Each answer told the truth: the successes are exactly what was committed, with one audit event each.
    expect([...suppliers].sort()).toEqual([...tally.ok].sort());
    expect(audited).toBe(tally.ok.length);
    // The faults happened and were felt, and work went on between them. Counts, not rates: a
    // machine shared with other work does less in 30 s (seen: 18 writes committed under load).
    expect(terminated).toBeGreaterThan(10);
    expect(tally.unavailable.length).toBeGreaterThan(0);
    expect(tally.ok.length).toBeGreaterThan(5);
    expect(logins.logins).toBeGreaterThan(5);
    console.info(`backends terminated: ${terminated}; writes: ${tally.ok.length} committed, ${tally.unavailable.length} answered 503; logins: ${logins.logins}`);
  }, 90_000);

  it('10 s of admin writes while the TCP connections are reset: the same, except a commit whose answer the reset cut off', async () => {
    const before = await committed();
    const tally: Tally = { ok: [], unavailable: [], other: [] };
    const until = Date.now() + 10_000;
    let resets = 0;
    const resetter = faultUntil(until, async () => void (resets += proxy.reset()));
    const [, , logins] = await Promise.all([resetter, writeUntil(until, tally), logInUntil(until)]);
    await recovered(tally);

    expect(gateway.exitCode, errorLines()).toBeUndefined();
    expect(tally.other.slice(0, 10)).toEqual([]);
    expect(logins.failures.slice(0, 10)).toEqual([]);
    const after = await committed();
    const created = [...after.suppliers].filter((id) => !before.suppliers.has(id));
    // Every success is committed, and every commit has its audit event (one transaction).
    expect(tally.ok.filter((id) => !after.suppliers.has(id))).toEqual([]);
    expect(after.audited - before.audited).toBe(created.length);
    // A reset between the server's commit and its answer reaching the gateway leaves a committed write
    // answered 503: no client of any database can tell those apart. Everything else committed was a success.
    const answerLost = created.filter((id) => !tally.ok.includes(id));
    expect(answerLost.every((id) => tally.unavailable.includes(id))).toBe(true);
    expect(resets).toBeGreaterThan(5);
    expect(tally.unavailable.length).toBeGreaterThan(0);
    console.info(`connections reset: ${resets}; writes: ${tally.ok.length} committed, ${tally.unavailable.length} answered 503 (${answerLost.length} of them committed); logins: ${logins.logins}`);
  }, 60_000);
});
