// What a guess of a pupil key costs an attacker, measured on this machine
// (docs/pseudonyms.md, "What a leak lets an attacker learn"): one HMAC-SHA256
// (a guess tested against a cheap function of the key: the root cache's keys
// in a Redis copy, the first form of the student ref), one scrypt at the
// production cost (a guess tested against a student ref, a pseudonym or a
// root), and one AES-256-GCM open (a roster record read with the master key).
// Then what the transition from the first form of the ref costs: per warm
// login, against the cryptography of a warm login measured in the same run,
// and at start-up, reading the first-form refs.
//   npx tsx bench/threat-costs.ts
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import { createKeySchedule } from '../src/crypto/key-schedule.js';
import { legacyStudentRef, pupilInput, rootOf, type ScryptCost } from '../src/crypto/pseudonym.js';
import { createRefFilter } from '../src/privacy/ref-filter.js';
import { createRefTransition } from '../src/privacy/ref-transition.js';
import { migrate } from '../src/store/migrate.js';
import { PgliteDb } from '../src/store/pglite-db.js';
import { measureLoginCrypto } from './crypto.js';

const ROUNDS = 5;
const PRODUCTION: ScryptCost = { N: 2 ** 15, r: 8, p: 1 };
const SIX_DIGITS = 1e6;
const keys = createKeySchedule(randomBytes(32));

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** CPU microseconds of this process since `start` (every thread: scrypt runs on libuv's pool). */
const cpuSince = (start: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(start);
  return used.user + used.system;
};

/**
 * Operations per CPU-second of `op`, run for about `ms` of CPU, median of the rounds. CPU time,
 * not wall time: what a guess costs whoever runs it, and steady while other work shares the cores.
 */
function rate(op: (i: number) => void, ms = 400): number {
  const rounds: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let n = 0;
    const start = process.cpuUsage();
    let used = 0;
    while (used < ms * 1000) {
      for (let i = 0; i < 1000; i++) op(n++);
      used = cpuSince(start);
    }
    rounds.push(n / (used / 1e6));
  }
  return median(rounds);
}

/** scrypt roots per CPU-second (and per wall second) with `parallel` in flight on libuv's pool, median of the rounds. */
async function scryptRate(parallel: number, perRound: number): Promise<{ perCpuSecond: number; perSecond: number }> {
  const rounds: { perCpuSecond: number; perSecond: number }[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let next = 0;
    const cpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    await Promise.all(Array.from({ length: parallel }, async () => {
      while (next < perRound) await rootOf(keys, pupilInput('12AB', String(100000 + r * perRound + next++)), PRODUCTION);
    }));
    rounds.push({ perCpuSecond: perRound / (cpuSince(cpu) / 1e6), perSecond: perRound / (Number(process.hrtime.bigint() - start) / 1e9) });
  }
  return { perCpuSecond: median(rounds.map((x) => x.perCpuSecond)), perSecond: median(rounds.map((x) => x.perSecond)) };
}

function hmacRate(): number {
  const inputs = Array.from({ length: 1024 }, (_, i) => pupilInput('12AB', String(100000 + i)));
  return rate((i) => createHmac('sha256', keys.cache).update(inputs[i & 1023]!).digest());
}

/** A sealed roster record of about this size: a person's attributes as JSON. */
function gcmOpenRate(): number {
  const key = randomBytes(32);
  const nonce = randomBytes(12);
  const person = JSON.stringify({ studentKey: '123456', logins: ['s123456@school.example'], role: 'student', given_name: 'Sanne', family_name: 'Jansen', birthdate: '2014-03-02', groups: [{ key: '8a', name: 'Groep 8A', grade: 8 }] });
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  const sealed = Buffer.concat([cipher.update(person, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return rate(() => {
    const d = createDecipheriv('aes-256-gcm', key, nonce);
    d.setAuthTag(tag);
    Buffer.concat([d.update(sealed), d.final()]);
  });
}

/** The work the transition adds to a warm login while the filter holds `legacy` first-form refs: the first form, then the filter. */
function transitionRate(legacy: number): { perSecond: number; filterBytes: number } {
  const filter = createRefFilter(legacy);
  for (let i = 0; i < legacy; i++) filter.add(randomBytes(32).toString('hex'));
  const inputs = Array.from({ length: 1024 }, (_, i) => pupilInput('12AB', String(200000 + i)));
  return { perSecond: rate((i) => filter.mayHold(legacyStudentRef(keys, inputs[i & 1023]!))), filterBytes: Math.ceil(Math.max(64, Math.ceil(legacy * 9.6)) / 32) * 4 };
}

/** Wall and CPU seconds one process takes at start-up to read `rows` first-form ledger refs (embedded PGlite, in memory, in this process). */
async function startupRead(rows: number): Promise<{ wall: number; cpu: number }> {
  const db = await PgliteDb.open();
  try {
    await migrate(db);
    await db.query(
      `INSERT INTO disclosures (school_id, student_ref, client_id, supplier_id, claims, day, count)
       SELECT '12AB', encode(sha256(int4send(i)), 'hex'), 'rekenapp', 'uitgever-a', 'school', current_date, 1 FROM generate_series(1, $1) AS i`,
      [rows],
    );
    const transition = createRefTransition({ db, onError: (err) => { throw err; } });
    const cpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    await transition.load();
    const wall = Number(process.hrtime.bigint() - start) / 1e9;
    if (transition.stats.legacyRefs !== rows) throw new Error(`read ${transition.stats.legacyRefs} of ${rows} refs`);
    return { wall, cpu: cpuSince(cpu) / 1e6 };
  } finally {
    await db.close();
  }
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-GB', { maximumFractionDigits: digits, minimumFractionDigits: digits });
/** A CPU time in seconds, in the unit that reads best. */
const duration = (seconds: number): string =>
  seconds < 120 ? `${fmt(seconds, 1)} s` : seconds < 2 * 3600 ? `${fmt(seconds / 60, 1)} min` : seconds < 3 * 86400 ? `${fmt(seconds / 3600, 1)} h` : `${fmt(seconds / 86400, 1)} days`;
const perGuess = (perSecond: number): string => (perSecond > 1000 ? `${fmt(1e6 / perSecond, 2)} µs` : `${fmt(1000 / perSecond, 1)} ms`);

const cores = availableParallelism();
console.log(`threat costs on this machine: ${cores} cores, Node ${process.version}, median of ${ROUNDS} rounds; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
// The first form of the ref is the same HMAC of the same input, under k_ref: one figure for both.
const hmac = hmacRate();
const gcm = gcmOpenRate();
const scrypt = await scryptRate(1, 8);
const scryptAll = await scryptRate(cores, 8 * cores);
const loginMs = await measureLoginCrypto();
const transition = transitionRate(1_000_000);
const STARTUP_ROWS = 100_000;
const startup = await startupRead(STARTUP_ROWS);

console.log('\n| one guess tested against | CPU per guess | 10^6 guesses (a school\'s 6-digit keys), CPU |');
console.log('|---|---|---|');
console.log(`| an HMAC-SHA256 of the key (root cache key; the ref's first form) | ${perGuess(hmac)} | ${duration(SIX_DIGITS / hmac)} |`);
console.log(`| scrypt N=2^15, r=8, p=1 (the ref, a pseudonym, a root) | ${perGuess(scrypt.perCpuSecond)} | ${duration(SIX_DIGITS / scrypt.perCpuSecond)} |`);
console.log(`\none scrypt costs ${fmt(hmac / scrypt.perCpuSecond)} HMACs of CPU`);
console.log(`scrypt, one at a time: ${fmt(scrypt.perSecond, 1)} roots/s of wall time; ${cores} at a time (every core): ${fmt(scryptAll.perSecond, 1)} roots/s (${perGuess(scryptAll.perCpuSecond)} CPU each)`);
console.log(`a sealed roster record opened with its key (AES-256-GCM; no guessing: the pupil key is inside): ${perGuess(gcm)} CPU per record, 10^6 records ${duration(SIX_DIGITS / gcm)}`);
console.log(`\nthe transition on a warm login, against the cryptography of one warm login measured in this run (${fmt(loginMs * 1000, 1)} µs CPU):`);
console.log('  no first-form row left at start-up: nothing (the filter is empty; no HMAC, no lookup)');
console.log(`  1,000,000 first-form refs in the filter (${fmt(transition.filterBytes / 1024 / 1024, 1)} MiB): +${perGuess(transition.perSecond)} per login (${fmt((100 * 1e6) / transition.perSecond / (loginMs * 1000), 1)} % of the control), plus one transaction per pupil and process where the filter says "maybe"`);
console.log(`  start-up read of ${fmt(STARTUP_ROWS)} first-form ledger refs (PGlite in memory): ${fmt(startup.wall, 2)} s (${fmt(startup.cpu, 2)} s CPU), in the background`);
