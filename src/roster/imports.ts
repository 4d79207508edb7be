import type { Clock } from '../clock.js';
import type { KeySchedule } from '../crypto/key-schedule.js';
import { recordAudit } from '../store/audit.js';
import { ConstraintError, type Db, type Queryable } from '../store/db.js';
import { finishImport, HEARTBEAT_MS, insertImport, readImport, saveProgress, type ImportCounts, type ImportFormat, type ImportKind, type ImportRecord } from './import-store.js';
import type { RosterChanges } from './lookup.js';
import { ProblemList, RosterRefused } from './problems.js';
import { applyDelta, loginHashesOf, loginsHeldByOthers, replaceRoster, type PreparedPerson, type RosterCounts } from './roster-write.js';
import { keyHash } from './seal.js';
import type { RosterPerson } from './person.js';
import { preparePeople, validatePeople, type Candidate } from './validate.js';

// Running a roster import (docs/roster.md, "Imports"): read the file, check
// every row, hash and seal, then write the roster, its audit event and the
// import's outcome in one transaction; the change is announced after the
// commit. Progress is kept here for this process and written to the import's
// row for every other one.

/** What a format's parser hands over: people to sync, or a delta. */
export type ParsedRoster =
  | { kind: 'full'; candidates: Candidate[]; skipped: number; problems: ProblemList }
  | { kind: 'delta'; upsert: Candidate[]; remove: string[]; problems: ProblemList };

/** A roster read and checked: every row is valid. */
export interface CheckedRoster {
  parsed: ParsedRoster;
  /** The people to write (a full sync's, or a delta's upserts), in input order. */
  people: RosterPerson[];
}

export interface ImportRequest {
  id: string;
  school: string;
  actor: string;
  kind: ImportKind;
  format: ImportFormat;
  /** Reads and checks the roster (checkRoster); may have done so already, before the import was recorded. */
  check: () => Promise<CheckedRoster>;
}

/** Read the file and check every row; throws RosterRefused listing every problem, having written nothing. */
export async function checkRoster(parse: () => Promise<ParsedRoster>): Promise<CheckedRoster> {
  const parsed = await parse();
  const people = await validatePeople(parsed.kind === 'full' ? parsed.candidates : parsed.upsert, parsed.problems);
  if (parsed.kind === 'delta') refuseUpsertAndRemove(parsed, people.map((p) => p.studentKey));
  return { parsed, people };
}

export interface RosterImportDeps {
  db: Db;
  keys: Pick<KeySchedule, 'roster'>;
  clock: Clock;
  changes: RosterChanges;
  onError: (err: unknown, what: string) => void;
}

/** Another import of the school is still running. */
export class ImportRunning extends Error {}

export interface RosterImports {
  /** Records the import (ImportRunning when one is under way) and returns its run, which never rejects. */
  start(request: ImportRequest): Promise<{ record: ImportRecord; run: Promise<ImportRecord> }>;
  read(school: string, id: string): Promise<ImportRecord | undefined>;
  /** Resolves once every import under way in this process has ended. */
  close(): Promise<void>;
}

export function createRosterImports(deps: RosterImportDeps): RosterImports {
  const live = new Map<string, ImportRecord>();
  const runs = new Set<Promise<ImportRecord>>();
  const now = () => new Date(deps.clock.now());

  async function write(rec: ImportRecord, actor: string, parsed: ParsedRoster, people: PreparedPerson[], skipped: number): Promise<ImportCounts> {
    const keys = deps.keys.roster(rec.school);
    const progress = (written: number) => void (rec.processed = written);
    return deps.db.transaction(async (tx) => {
      let counts: RosterCounts;
      if (parsed.kind === 'full') counts = await replaceRoster(tx, keys, rec.school, people, now(), progress);
      else {
        const removes = parsed.remove.map((k) => keyHash(keys, k).toString('hex'));
        await refuseHeldLogins(tx, rec.school, parsed.upsert, people.map((p) => loginHashesOf(keys, p.person)), removes, people);
        counts = await applyDelta(tx, keys, rec.school, people, removes, now(), progress);
      }
      const all = { ...counts, skipped };
      await recordAudit(tx, { actor, school: rec.school, action: `roster.${rec.kind}`, target: `roster-import:${rec.id}`, before: null, after: { format: rec.format, ...all } });
      await finishImport(tx, { ...rec, state: 'done', counts: all }, now());
      return all;
    });
  }

  async function execute(rec: ImportRecord, request: ImportRequest): Promise<void> {
    const { parsed, people } = await request.check();
    rec.total = people.length + (parsed.kind === 'delta' ? parsed.remove.length : 0);
    const prepared = await preparePeople(deps.keys.roster(rec.school), people);
    rec.state = 'writing';
    rec.counts = await write(rec, request.actor, parsed, prepared, parsed.kind === 'full' ? parsed.skipped : 0);
    rec.state = 'done';
    await deps.changes.changed(rec.school).catch((err: unknown) => deps.onError(err, 'roster change notice failed'));
  }

  async function run(rec: ImportRecord, request: ImportRequest): Promise<ImportRecord> {
    let saving: Promise<void> | undefined;
    // Fire and forget, one at a time: on PGlite the write waits for the import's own transaction.
    const beat = setInterval(() => {
      saving ??= saveProgress(deps.db, rec, now()).catch((err: unknown) => deps.onError(err, 'roster import progress not saved')).finally(() => (saving = undefined));
    }, HEARTBEAT_MS);
    try {
      await execute(rec, request);
    } catch (err) {
      Object.assign(rec, err instanceof RosterRefused ? { state: 'refused', problems: [...err.problems], problemCount: err.problemCount } : { state: 'failed', reason: 'error' });
      if (!(err instanceof RosterRefused)) deps.onError(err, 'roster import failed');
      await finishImport(deps.db, rec, now()).catch((e: unknown) => deps.onError(e, 'roster import outcome not saved'));
    } finally {
      rec.finishedAt = now().toISOString();
      clearInterval(beat);
      live.delete(rec.id);
    }
    return rec;
  }

  return {
    async start(request) {
      const rec: ImportRecord = { id: request.id, school: request.school, kind: request.kind, format: request.format, state: 'validating', processed: 0, problemCount: 0, startedAt: now().toISOString() };
      await insertImport(deps.db, rec, request.actor, now()).catch((err: unknown) => {
        throw err instanceof ConstraintError ? new ImportRunning('an import of this roster is running') : err;
      });
      live.set(rec.id, rec);
      const running = run(rec, request);
      runs.add(running);
      void running.finally(() => runs.delete(running));
      return { record: { ...rec }, run: running };
    },
    async read(school, id) {
      const here = live.get(id);
      if (here && here.school === school) return { ...here };
      return readImport(deps.db, school, id, deps.clock.now());
    },
    close: async () => void (await Promise.all(runs)),
  };
}

/** A delta may not both upsert and remove one pupil. */
function refuseUpsertAndRemove(parsed: Extract<ParsedRoster, { kind: 'delta' }>, upsertKeys: string[]): void {
  const upserted = new Set(upsertKeys);
  const problems = new ProblemList();
  parsed.remove.forEach((key, index) => {
    if (upserted.has(key)) problems.add({ file: 'body', index, field: `remove.${index}`, detail: 'also in upsert' });
  });
  if (!problems.empty) throw RosterRefused.of(problems);
}

/** A delta's new logins must not belong to someone else on the roster who stays. */
async function refuseHeldLogins(tx: Queryable, school: string, upsert: Candidate[], logins: string[][], removes: string[], people: PreparedPerson[]): Promise<void> {
  const owners = new Set([...people.map((p) => p.keyHash), ...removes]);
  const held = await loginsHeldByOthers(tx, school, logins.flat(), owners);
  if (!held.size) return;
  const problems = new ProblemList();
  logins.forEach((hashes, i) => {
    if (hashes.some((h) => held.has(h))) problems.add({ ...upsert[i]!.where, field: upsert[i]!.fieldName(['logins']), detail: 'a login of another person on the roster' });
  });
  throw RosterRefused.of(problems);
}
