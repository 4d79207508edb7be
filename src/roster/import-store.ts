import type { Queryable } from '../store/db.js';
import type { RowProblem } from './problems.js';
import type { RosterCounts } from './roster-write.js';

// Roster imports as every process sees them (docs/roster.md, "Imports"): the
// row is written when an import starts, its progress while it runs (with a
// heartbeat), and its outcome in the transaction that writes the roster. A
// running import whose heartbeat stopped lost its process: it reads as failed.

export type ImportKind = 'full' | 'delta';
export type ImportFormat = 'json' | 'edexml' | 'oneroster';
export type ImportState = 'validating' | 'writing' | 'done' | 'refused' | 'failed';

export interface ImportCounts extends RosterCounts {
  /** Rows the format carries that are not people of this school's roster (other roles, other schools, disabled accounts). */
  skipped: number;
}

export interface ImportRecord {
  id: string;
  school: string;
  kind: ImportKind;
  format: ImportFormat;
  state: ImportState;
  reason?: 'interrupted' | 'error';
  /** People in the file, once it is read. */
  total?: number;
  /** People written so far. */
  processed: number;
  counts?: ImportCounts;
  problems?: RowProblem[];
  problemCount: number;
  startedAt: string;
  finishedAt?: string;
}

/** The running process writes its progress this often. */
export const HEARTBEAT_MS = 2_000;
/** A running import whose heartbeat is this old lost its process. */
export const STALE_AFTER_MS = 30_000;

const RUNNING = "state IN ('validating', 'writing')";

interface Row {
  id: string;
  school_id: string;
  kind: ImportKind;
  format: ImportFormat;
  state: ImportState;
  reason: 'interrupted' | 'error' | null;
  total: number | null;
  processed: number;
  counts: ImportCounts | null;
  problems: RowProblem[] | null;
  problem_count: number;
  started_at: Date;
  heartbeat_at: Date;
  finished_at: Date | null;
}

function toRecord(r: Row, now: number): ImportRecord {
  const stale = (r.state === 'validating' || r.state === 'writing') && now - r.heartbeat_at.getTime() > STALE_AFTER_MS;
  const finishedAt = stale ? r.heartbeat_at : r.finished_at;
  return {
    id: r.id, school: r.school_id, kind: r.kind, format: r.format,
    state: stale ? 'failed' : r.state, processed: r.processed, problemCount: r.problem_count, startedAt: r.started_at.toISOString(),
    ...(stale ? { reason: 'interrupted' as const } : r.reason ? { reason: r.reason } : {}),
    ...(r.total === null ? {} : { total: r.total }),
    ...(r.counts ? { counts: r.counts } : {}),
    ...(r.problems ? { problems: r.problems } : {}),
    ...(finishedAt ? { finishedAt: finishedAt.toISOString() } : {}),
  };
}

/** Record a new import; a ConstraintError when one is already running for the school. Stale ones are closed first. */
export async function insertImport(q: Queryable, rec: Pick<ImportRecord, 'id' | 'school' | 'kind' | 'format'>, actor: string, now: Date): Promise<void> {
  await q.query(
    `UPDATE roster_imports SET state = 'failed', reason = 'interrupted', finished_at = heartbeat_at WHERE school_id = $1 AND ${RUNNING} AND heartbeat_at < $2`,
    [rec.school, new Date(now.getTime() - STALE_AFTER_MS)],
  );
  await q.query(
    "INSERT INTO roster_imports (id, school_id, actor, kind, format, state, started_at, heartbeat_at) VALUES ($1, $2, $3, $4, $5, 'validating', $6, $6)",
    [rec.id, rec.school, actor, rec.kind, rec.format, now],
  );
}

/** Progress and heartbeat of a running import (no effect once it has ended). */
export async function saveProgress(q: Queryable, rec: ImportRecord, now: Date): Promise<void> {
  await q.query(`UPDATE roster_imports SET state = $2, total = $3, processed = $4, heartbeat_at = $5 WHERE id = $1 AND ${RUNNING}`, [
    rec.id, rec.state, rec.total ?? null, rec.processed, now,
  ]);
}

/** The outcome: done (with counts), refused (with problems) or failed. */
export async function finishImport(q: Queryable, rec: ImportRecord, now: Date): Promise<void> {
  await q.query(
    `UPDATE roster_imports SET state = $2, reason = $3, total = $4, processed = $5, counts = $6::jsonb, problems = $7::jsonb, problem_count = $8, heartbeat_at = $9, finished_at = $9
     WHERE id = $1`,
    [rec.id, rec.state, rec.reason ?? null, rec.total ?? null, rec.processed, rec.counts ? JSON.stringify(rec.counts) : null, rec.problems ? JSON.stringify(rec.problems) : null, rec.problemCount, now],
  );
}

const COLUMNS = 'id, school_id, kind, format, state, reason, total, processed, counts, problems, problem_count, started_at, heartbeat_at, finished_at';

export async function readImport(q: Queryable, school: string, id: string, now: number): Promise<ImportRecord | undefined> {
  const [row] = await q.query<Row>(`SELECT ${COLUMNS} FROM roster_imports WHERE id = $1 AND school_id = $2`, [id, school]);
  return row && toRecord(row, now);
}

/** The school's latest import, without its problem list. */
export async function latestImport(q: Queryable, school: string, now: number): Promise<ImportRecord | undefined> {
  const [row] = await q.query<Row>(`SELECT ${COLUMNS.replace('problems,', 'NULL AS problems,')} FROM roster_imports WHERE school_id = $1 ORDER BY started_at DESC, id LIMIT 1`, [school]);
  return row && toRecord(row, now);
}
