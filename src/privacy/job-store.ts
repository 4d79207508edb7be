import type { Kv } from '../store/kv.js';
import { kvKey } from '../store/kv-keys.js';

// Where a pupil job (resolution, breach scope: src/privacy/pupil-jobs.ts)
// lives while and after it runs: its state (status, progress, heartbeat) and
// its result, in the KV (Redis when configured), so any process can answer
// for it. Neither ever holds a student key or a student ref: a result names
// pupils by their position in the request.

export type JobStatus = 'running' | 'done' | 'failed';

/** Results back to pupils (pseudonyms at a supplier), a breach scope over a roster, or warming a roster's roots. */
export type JobKind = 'resolution' | 'breach-scope' | 'warm-roots';

/** What a job is about, shown with its state: a supplier and key version, or a breach target and period. */
export type JobAbout = Readonly<Record<string, string | number>>;

export interface JobState {
  readonly id: string;
  readonly kind: JobKind;
  readonly school: string;
  readonly about: JobAbout;
  readonly status: JobStatus;
  readonly total: number;
  readonly done: number;
  readonly startedAt: string;
  readonly finishedAt?: string;
  /** Why a job failed: the process running it stopped (`interrupted`), or the work failed (`error`). */
  readonly reason?: 'interrupted' | 'error';
  /** When the running process last wrote the state (ms since the epoch). */
  readonly heartbeatAt: number;
}

/** The running process writes the state this often, progress included. */
export const HEARTBEAT_MS = 2_000;
/** A running job whose state is this old has lost its process: it reads as failed (interrupted). */
export const STALE_AFTER_MS = 30_000;

const stateKey = (id: string) => kvKey('resolutionJob', id);
const resultKey = (id: string) => kvKey('resolutionJob', `${id}:result`);

export interface JobStore {
  save(state: JobState): Promise<void>;
  saveResult(id: string, result: unknown): Promise<void>;
  /** The job as every process sees it, a stale running job as failed; undefined when unknown or expired. */
  read(id: string, now: number): Promise<JobState | undefined>;
  /** The result as the job's kind wrote it (JSON). */
  readResult(id: string): Promise<unknown>;
}

export function jobStore(kv: Pick<Kv, 'get' | 'set'>, ttlMs: number): JobStore {
  return {
    save: (state) => kv.set(stateKey(state.id), JSON.stringify(state), ttlMs),
    saveResult: (id, result) => kv.set(resultKey(id), JSON.stringify(result), ttlMs),
    async read(id, now) {
      const raw = await kv.get(stateKey(id));
      return raw === null ? undefined : staleAsFailed(JSON.parse(raw) as JobState, now);
    },
    async readResult(id) {
      const raw = await kv.get(resultKey(id));
      return raw === null ? undefined : (JSON.parse(raw) as unknown);
    },
  };
}

/** A process that dies mid-job writes nothing more: its job stops beating and reads as interrupted. */
export function staleAsFailed(state: JobState, now: number): JobState {
  if (state.status !== 'running' || now - state.heartbeatAt <= STALE_AFTER_MS) return state;
  return { ...state, status: 'failed', reason: 'interrupted', finishedAt: new Date(state.heartbeatAt).toISOString() };
}
