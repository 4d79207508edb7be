import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Clock } from '../clock.js';
import type { KeySchedule } from '../crypto/key-schedule.js';
import { groupPseudonym, pupilInput, subjectPseudonym } from '../crypto/pseudonym.js';
import type { RootCache } from '../crypto/root-cache.js';
import type { Supplier } from '../store/registry.js';
import { HEARTBEAT_MS, type JobResult, type JobState, type JobStore } from './resolution-job-store.js';

// Results back to pupils (docs/resolution-and-breach.md): a school's pupil keys become their
// pseudonyms at one supplier, as a job with progress. The keys stay in this
// process's memory while the job runs and nowhere else; the state and the
// pseudonyms go to the job store. Roots come from the pupil root cache (LRU,
// then KV, then scrypt off the main thread), so a job also warms the cache for
// the pupils' next logins. At most `concurrency` roots are derived at a time in
// this process, whatever the number of jobs: logins keep the rest of libuv's
// thread pool.

export interface ResolutionRequest {
  /** The job's id (a UUID), chosen by the caller so it can be audited before the job starts. */
  id: string;
  school: string;
  supplier: Supplier;
  studentKeys: readonly string[];
  groupKeys: readonly string[];
}

export interface ResolutionJobs {
  /** Whether this process would start another job now. */
  canStart(): boolean;
  /** Starts a job in this process; throws JobsBusyError when `maxRunning` jobs run here already. */
  start(request: ResolutionRequest): Promise<JobState>;
  /** The job's state: live when it runs in this process, else as the store has it. */
  read(id: string): Promise<JobState | undefined>;
  readResult(id: string): Promise<JobResult | undefined>;
  /** Stops the jobs running here; each is recorded as failed (interrupted). */
  close(): Promise<void>;
}

export interface ResolutionJobsDeps {
  store: JobStore;
  clock: Clock;
  keys: KeySchedule;
  roots: Pick<RootCache, 'rootFor'>;
  /** Roots derived at a time in this process (RESOLUTION_JOB_CONCURRENCY). */
  concurrency: number;
  maxRunning: number;
  onError: (err: unknown, what: string) => void;
}

export class JobsBusyError extends Error {
  constructor() {
    super('too many resolution jobs running in this process');
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

/** Pupils resolved between two turns of the event loop when their roots are in memory. */
const YIELD_EVERY = 256;

export function createResolutionJobs(deps: ResolutionJobsDeps): ResolutionJobs {
  const running = new Map<string, RunningJob>();
  const slots = createSlots(deps.concurrency);
  const iso = (ms: number) => new Date(ms).toISOString();

  function write(job: RunningJob, change: Partial<JobState> = {}): Promise<void> {
    job.state = { ...job.state, ...change, heartbeatAt: deps.clock.now() };
    const snapshot = job.state;
    job.writes = job.writes.then(() => deps.store.save(snapshot)).catch((err: unknown) => deps.onError(err, 'resolution job state not saved'));
    return job.writes;
  }

  async function resolveStudents(job: RunningJob, supplierKey: Uint8Array, studentKeys: readonly string[]): Promise<string[]> {
    const subs = new Array<string>(studentKeys.length);
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < studentKeys.length && !job.aborted; i = next++) {
        const root = await slots.use(() => deps.roots.rootFor(pupilInput(job.state.school, studentKeys[i]!)));
        subs[i] = subjectPseudonym(supplierKey, root);
        job.state = { ...job.state, done: job.state.done + 1 };
        // Cached roots resolve without I/O: let logins in between.
        if (i % YIELD_EVERY === 0) await yieldToLoop();
      }
    };
    await Promise.all(Array.from({ length: Math.min(deps.concurrency, studentKeys.length) }, worker));
    return subs;
  }

  async function run(job: RunningJob, request: ResolutionRequest): Promise<void> {
    const heartbeat = setInterval(() => void write(job), HEARTBEAT_MS);
    heartbeat.unref();
    try {
      const key = deps.keys.supplier(request.supplier.id, request.supplier.keyVersion);
      const groups = request.groupKeys.map((g) => groupPseudonym(key, request.school, g));
      const students = await resolveStudents(job, key, request.studentKeys);
      if (job.aborted) return await write(job, { status: 'failed', reason: 'interrupted', finishedAt: iso(deps.clock.now()) });
      await deps.store.saveResult(job.state.id, { students, groups });
      await write(job, { status: 'done', finishedAt: iso(deps.clock.now()) });
    } catch (err) {
      deps.onError(err, 'resolution job failed');
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
          id: request.id, school: request.school, supplier: request.supplier.id, keyVersion: request.supplier.keyVersion,
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
      // The keys live only in this closure, and only until the job ends.
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

/** At most `size` tasks at a time; the others wait their turn in order. */
function createSlots(size: number) {
  let free = size;
  const waiting: (() => void)[] = [];
  return {
    async use<T>(task: () => Promise<T>): Promise<T> {
      if (free > 0) free--;
      else await new Promise<void>((resolve) => waiting.push(resolve));
      try {
        return await task();
      } finally {
        const nextTask = waiting.shift();
        if (nextTask) nextTask();
        else free++;
      }
    },
  };
}
