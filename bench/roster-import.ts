// npm run bench:roster: a 50,000-person roster imported through the admin API
// as JSON, EDEXML 2.1 and a OneRoster 1.2 CSV zip, against the production
// build with Redis and PostgreSQL, each format on a fresh gateway and database:
//   first:     every person new (hashed, sealed, written);
//   unchanged: the same file again (the daily full sync: every row read and opened, none written).
// Control, the same run: one bare INSERT of as many rows of the same size into
// the same PostgreSQL from this process (no parsing, no crypto, no checks).
// Figures only, no assertions.
//   BENCH_PEOPLE=50000  BENCH_ROUNDS=3  REDIS_URL, DATABASE_URL (defaults: the local Redis and PostgreSQL)
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { buildProduction, REDIS_URL, requireRedis, startBenchGateway, type BenchGateway } from './lib/gateway.js';
import { freshPgDatabase } from '../support/pg.js';
import { edexml, oneRosterFiles, zipOf } from '../support/roster-files.js';
import type { RosterPerson } from '../src/roster/person.js';

const PEOPLE = Number(process.env.BENCH_PEOPLE ?? 50_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const TOKEN = `bench-operator-${process.pid}-0123456789abcdefghijklmnopqrstuvwxyz`;
const ROSTER = '/admin/v1/schools/12AB/roster';
const round1 = (x: number) => Math.round(x * 10) / 10;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const GROUPS = Array.from({ length: 8 * 4 }, (_, i) => ({ key: `G${i}`, name: `Groep ${(i % 8) + 1}${'abcd'[Math.floor(i / 8)]}`, grade: (i % 8) + 1 }));

function person(i: number): RosterPerson {
  const group = GROUPS[i % GROUPS.length]!;
  return {
    studentKey: `L${100000 + i}`, logins: [`leerling${i}`, `leerling${i}@school.example`], role: 'student',
    given_name: `Voornaam${i}`, ...(i % 3 ? {} : { tussenvoegsel: 'van' }), family_name: `Achternaam${i}`,
    birthdate: `20${10 + (i % 8)}-0${1 + (i % 9)}-1${i % 10}`, gender: i % 2 ? 'male' : 'female', groups: [group], grade: group.grade,
  };
}

async function bodies(people: RosterPerson[]): Promise<Record<string, { type: string; body: Buffer }>> {
  return {
    json: { type: 'application/json', body: Buffer.from(JSON.stringify({ people })) },
    edexml: { type: 'application/xml', body: Buffer.from(edexml('12AB', people, '', GROUPS)) },
    oneroster: { type: 'application/zip', body: await zipOf(oneRosterFiles('12AB', people, GROUPS)) },
  };
}

/** The gateway's warnings and errors, for a failure's message. */
const warnings = (gw: BenchGateway) => gw.server.outputTail().split('\n').filter((l) => /"level":(40|50|60)/.test(l)).slice(-5).join('\n');

interface Import { id: string; state: string; processed: number; counts?: Record<string, number> }

/** PUT as a job, then poll: wall time, and how many distinct progress values the API showed on the way. */
async function importOnce(gw: BenchGateway, type: string, body: Buffer) {
  const started = performance.now();
  const res = await fetch(`${gw.world.url}${ROSTER}`, { method: 'PUT', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': type, prefer: 'respond-async' }, body });
  const job = (await res.json()) as Import;
  if (res.status !== 202) throw new Error(`PUT ${ROSTER}: ${res.status} ${JSON.stringify(job).slice(0, 500)}\n${warnings(gw)}`);
  const seen = new Set<string>();
  let unavailable = 0;
  for (;;) {
    const poll = await fetch(`${gw.world.url}${ROSTER}/imports/${job.id}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    // A poll the gateway could not answer (503 from a busy database) is counted and retried; the import goes on.
    if (poll.status === 503 && ++unavailable < 50) {
      await sleep(500);
      continue;
    }
    const now = (await poll.json()) as Import;
    seen.add(`${now.state}:${now.processed}`);
    if (now.state === 'done') return { seconds: (performance.now() - started) / 1000, progressSteps: seen.size, counts: now.counts!, unavailable };
    if (now.state !== 'validating' && now.state !== 'writing') throw new Error(`import ended ${JSON.stringify(now).slice(0, 500)}\n${warnings(gw)}`);
    await sleep(100);
  }
}

/** The control: one bare multi-row INSERT of PEOPLE rows of the stored size (a sealed box, three login hashes each). */
async function bareInsert(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('CREATE TEMP TABLE floor_people (k bytea PRIMARY KEY, s bytea)');
    await client.query('CREATE TEMP TABLE floor_logins (l bytea PRIMARY KEY, k bytea)');
    const keys = Array.from({ length: PEOPLE }, () => randomBytes(32).toString('hex'));
    const started = performance.now();
    await client.query("INSERT INTO floor_people SELECT decode(k, 'hex'), decode(s, 'hex') FROM unnest($1::text[], $2::text[]) AS t(k, s)", [keys, keys.map(() => randomBytes(400).toString('hex'))]);
    const logins = keys.flatMap((k) => [0, 1, 2, 3].map(() => [randomBytes(32).toString('hex'), k]));
    await client.query("INSERT INTO floor_logins SELECT decode(l, 'hex'), decode(k, 'hex') FROM unnest($1::text[], $2::text[]) AS t(l, k)", [logins.map((l) => l[0]), logins.map((l) => l[1])]);
    return (performance.now() - started) / 1000;
  } finally {
    await client.end();
  }
}

async function round(format: string, file: { type: string; body: Buffer }) {
  const dir = await mkdtemp(join(tmpdir(), 'pgw-bench-roster-'));
  const database = await freshPgDatabase();
  const gw = await startBenchGateway(dir, database.url, { env: { OPERATOR_BOOTSTRAP_TOKEN: TOKEN } });
  try {
    const idleRss = gw.server.rssMb();
    const first = await importOnce(gw, file.type, file.body);
    const peakRss = gw.server.peakRssMb();
    const unchanged = await importOnce(gw, file.type, file.body);
    if (first.counts.added !== PEOPLE || unchanged.counts.unchanged !== PEOPLE) throw new Error(`${format}: counts ${JSON.stringify([first.counts, unchanged.counts])}`);
    const floor = await bareInsert(database.url);
    return { first: first.seconds, unchanged: unchanged.seconds, floor, idleRss, peakRss, progressSteps: first.progressSteps, unavailablePolls: first.unavailable + unchanged.unavailable };
  } finally {
    await gw.server.stop();
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function main() {
  await requireRedis();
  buildProduction();
  const files = await bodies(Array.from({ length: PEOPLE }, (_, i) => person(i)));
  const rows = [];
  for (const [format, file] of Object.entries(files)) {
    const results: Awaited<ReturnType<typeof round>>[] = [];
    for (let r = 0; r < ROUNDS; r++) results.push(await round(format, file));
    const m = (k: keyof (typeof results)[number]) => median(results.map((x) => x[k]));
    rows.push({
      format, 'body MB': round1(file.body.length / 1024 / 1024), 'first import s': round1(m('first')), 'people/s': Math.round(PEOPLE / m('first')),
      'unchanged re-import s': round1(m('unchanged')), 'bare INSERT s (control)': round1(m('floor')), 'first / control': round1(m('first') / m('floor')),
      'idle RSS MB': Math.round(m('idleRss')), 'peak RSS MB': Math.round(m('peakRss')), 'progress values seen': m('progressSteps'), 'polls answered 503': m('unavailablePolls'),
    });
  }
  console.log(`Roster import, ${PEOPLE} people, PUT as an import job, production build with PostgreSQL and Redis at ${REDIS_URL}; median of ${ROUNDS} round(s), each on a fresh gateway and database`);
  console.table(rows);
}

main().catch((err: unknown) => {
  console.error(`benchmark failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
