import type { Kv } from '../store/kv.js';
import { kvKey } from '../store/kv-keys.js';

// Where a pseudonym-resolution job lives while and after it runs: its state
// (status, progress, heartbeat) and its result, in the KV (Redis when
// configured), so any process can answer for it. The result holds pseudonyms
// only, in input order: never a student key, never a student ref.

export type JobStatus = 'running' | 'done' | 'failed';

export interface JobState {
  readonly id: string;
  readonly school: string;
  readonly supplier: string;
  /** The supplier's key version the pseudonyms are derived with. */
  readonly keyVersion: number;
  readonly status: JobStatus;
  readonly total: number;
  readonly done: number;
  readonly startedAt: string;
  readonly finishedAt?: string;
  /** Why a job failed: the process running it stopped (`interrupted`), or the derivation failed (`error`). */
  readonly reason?: 'interrupted' | 'error';
  /** When the running process last wrote the state (ms since the epoch). */
  readonly heartbeatAt: number;
}

export interface JobResult {
  /** Pupil pseudonyms (`sub`), at the positions of the request's studentKeys. */
  readonly students: readonly string[];
  /** Group pseudonyms, at the positions of the request's groupKeys. */
  readonly groups: readonly string[];
}

/** The running process writes the state this often, progress included. */
export const HEARTBEAT_MS = 2_000;
/** A running job whose state is this old has lost its process: it reads as failed (interrupted). */
export const STALE_AFTER_MS = 30_000;

const stateKey = (id: string) => kvKey('resolutionJob', id);
const resultKey = (id: string) => kvKey('resolutionJob', `${id}:result`);

export interface JobStore {
  save(state: JobState): Promise<void>;
  saveResult(id: string, result: JobResult): Promise<void>;
  /** The job as every process sees it, a stale running job as failed; undefined when unknown or expired. */
  read(id: string, now: number): Promise<JobState | undefined>;
  readResult(id: string): Promise<JobResult | undefined>;
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
      return raw === null ? undefined : (JSON.parse(raw) as JobResult);
    },
  };
}

/** A process that dies mid-job writes nothing more: its job stops beating and reads as interrupted. */
export function staleAsFailed(state: JobState, now: number): JobState {
  if (state.status !== 'running' || now - state.heartbeatAt <= STALE_AFTER_MS) return state;
  return { ...state, status: 'failed', reason: 'interrupted', finishedAt: new Date(state.heartbeatAt).toISOString() };
}
