import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Clock } from '../clock.js';
import type { RootSource } from '../crypto/bounded-roots.js';
import { pupilInput, type PupilRoot } from '../crypto/pseudonym.js';
import { HEARTBEAT_MS, type JobAbout, type JobKind, type JobState, type JobStore } from './job-store.js';

// Work over a school's pupil keys that needs each pupil's root, as a job with
// progress (docs/resolution-and-breach.md): results back to pupils
// (pseudonyms at a supplier) and breach scope over a roster (student refs,
// then the ledger). The keys stay in this process's memory while the job
// runs and nowhere else; the state and the result go to the job store. Roots come from the pupil root cache (LRU, then
// KV, then scrypt off the main thread), bounded for the whole admin API
// (src/crypto/bounded-roots.ts), so a job also warms the cache for the
// pupils' next logins.

export interface PupilJobRequest<T> {
  /** The job's id (a UUID), chosen by the caller so it can be audited before the job starts. */
  id: string;
  kind: JobKind;
  school: string;
  /** Shown with the job's state; never a key. */
  about: JobAbout;
  studentKeys: readonly string[];
  /** Per pupil, once its root is at hand: what the job keeps of that pupil (never the key). */
  each(root: PupilRoot, input: Buffer): T;
  /** The result, from every pupil's item in input order; saved as JSON. */
  finish(items: T[]): Promise<unknown>;
}

export interface PupilJobs {
  /** Whether this process would start another job now. */
  canStart(): boolean;
  /** Starts a job in this process; throws JobsBusyError when `maxRunning` jobs run here already. */
  start<T>(request: PupilJobRequest<T>): Promise<JobState>;
  /** The job's state: live when it runs in this process, else as the store has it. */
  read(id: string): Promise<JobState | undefined>;
  readResult(id: string): Promise<unknown>;
  /** Stops the jobs running here; each is recorded as failed (interrupted). */
  close(): Promise<void>;
}

export interface PupilJobsDeps {
  store: JobStore;
  clock: Clock;
  /** Bounded for the whole admin API. */
  roots: RootSource;
  /** Roots one job asks for at a time (RESOLUTION_JOB_CONCURRENCY): enough to keep the bound busy. */
  concurrency: number;
  maxRunning: number;
  onError: (err: unknown, what: string) => void;
}

export class JobsBusyError extends Error {
  constructor() {
    super('too many pupil jobs running in this process');
    this.name = 'JobsBusyError';
  }
}

interface RunningJob {
  state: JobState;
  aborted: boolean;
  /** State writes in order, so a late heartbeat never overwrites the final state. */
  writes: Promise<void>;
  finished: Promise<void>;
}

/** Pupils handled between two turns of the event loop when their roots are in memory. */
const YIELD_EVERY = 256;

export function createPupilJobs(deps: PupilJobsDeps): PupilJobs {
  const running = new Map<string, RunningJob>();
  const iso = (ms: number) => new Date(ms).toISOString();

  function write(job: RunningJob, change: Partial<JobState> = {}): Promise<void> {
    job.state = { ...job.state, ...change, heartbeatAt: deps.clock.now() };
    const snapshot = job.state;
    job.writes = job.writes.then(() => deps.store.save(snapshot)).catch((err: unknown) => deps.onError(err, 'pupil job state not saved'));
    return job.writes;
  }

  async function eachPupil<T>(job: RunningJob, request: PupilJobRequest<T>): Promise<T[]> {
    const { school, studentKeys } = request;
    const items = new Array<T>(studentKeys.length);
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < studentKeys.length && !job.aborted; i = next++) {
        const input = pupilInput(school, studentKeys[i]!);
        items[i] = request.each(await deps.roots.rootFor(input), input);
        job.state = { ...job.state, done: job.state.done + 1 };
        // Cached roots resolve without I/O: let logins in between.
        if (i % YIELD_EVERY === 0) await yieldToLoop();
      }
    };
    await Promise.all(Array.from({ length: Math.min(deps.concurrency, studentKeys.length) }, worker));
    return items;
  }

  async function run<T>(job: RunningJob, request: PupilJobRequest<T>): Promise<void> {
    const heartbeat = setInterval(() => void write(job), HEARTBEAT_MS);
    heartbeat.unref();
    try {
      const items = await eachPupil(job, request);
      if (job.aborted) return await write(job, { status: 'failed', reason: 'interrupted', finishedAt: iso(deps.clock.now()) });
      await deps.store.saveResult(job.state.id, await request.finish(items));
      await write(job, { status: 'done', finishedAt: iso(deps.clock.now()) });
    } catch (err) {
      deps.onError(err, 'pupil job failed');
      await write(job, { status: 'failed', reason: 'error', finishedAt: iso(deps.clock.now()) });
    } finally {
      clearInterval(heartbeat);
    }
  }

  const canStart = () => running.size < deps.maxRunning;

  return {
    canStart,
    async start(request) {
      if (!canStart()) throw new JobsBusyError();
      const now = deps.clock.now();
      const job: RunningJob = {
        state: {
          id: request.id, kind: request.kind, school: request.school, about: request.about,
          status: 'running', total: request.studentKeys.length, done: 0, startedAt: iso(now), heartbeatAt: now,
        },
        aborted: false,
        writes: Promise.resolve(),
        finished: Promise.resolve(),
      };
      running.set(job.state.id, job);
      // Saved before the caller learns the id, so every process can answer for it at once.
      await deps.store.save(job.state).catch((err: unknown) => {
        running.delete(job.state.id);
        throw err;
      });
      // The keys live only in the request, and only until the job ends.
      job.finished = run(job, request).finally(() => running.delete(job.state.id));
      return job.state;
    },
    async read(id) {
      return running.get(id)?.state ?? (await deps.store.read(id, deps.clock.now()));
    },
    readResult: (id) => deps.store.readResult(id),
    async close() {
      const jobs = [...running.values()];
      for (const job of jobs) job.aborted = true;
      await Promise.all(jobs.map((job) => job.finished));
    },
  };
}
