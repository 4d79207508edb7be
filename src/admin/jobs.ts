import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { JobKind, JobState } from '../privacy/job-store.js';
import { JobsBusyError, type PupilJobRequest, type PupilJobs } from '../privacy/pupil-jobs.js';
import { notFound, Problem } from './problem.js';
import { schoolIdParam } from './schemas.js';

// What every pupil-job route shares (results back to pupils, breach scope):
// starting a job (202 with its Location, or 503 when this process runs as
// many as it may), reading one only at its own school and of its own kind, and
// handing out its result only once it is done (docs/resolution-and-breach.md).

/** How long a caller refused for busy jobs should wait: about one small job. */
const BUSY_RETRY_AFTER_S = 30;

export const jobParams = z.strictObject({ schoolId: schoolIdParam, jobId: z.uuid() });
export const startedView = z.object({ id: z.string(), status: z.enum(['running', 'done', 'failed']), total: z.number().int(), done: z.number().int() });
/** The state every job shows; each kind adds what it is about. */
export const jobViewFields = {
  ...startedView.shape,
  startedAt: z.string(),
  finishedAt: z.string().optional(),
  reason: z.enum(['interrupted', 'error']).optional(),
};

export const stateView = (s: JobState) => ({
  id: s.id, status: s.status, total: s.total, done: s.done, startedAt: s.startedAt,
  ...(s.finishedAt === undefined ? {} : { finishedAt: s.finishedAt }),
  ...(s.reason === undefined ? {} : { reason: s.reason }),
});

const busy = () => new Problem('jobs_busy', 503, 'Too many jobs are running, try again later', [], BUSY_RETRY_AFTER_S);

/** Refuses early (before an audit, say) when this process would not start another job. */
export function checkJobsFree(jobs: Pick<PupilJobs, 'canStart'>): void {
  if (!jobs.canStart()) throw busy();
}

/** Starts the job and answers 202 with its Location. */
export async function startJob<T>(jobs: PupilJobs, request: FastifyRequest, reply: FastifyReply, job: PupilJobRequest<T>) {
  const state = await jobs.start(job).catch((err: unknown) => {
    throw err instanceof JobsBusyError ? busy() : err;
  });
  return reply.code(202).header('location', `${request.url.split('?')[0]}/${state.id}`).send({ id: state.id, status: state.status, total: state.total, done: state.done });
}

/** The job, if it is this school's and of this kind: any other job is exactly a missing one. */
export async function jobOf(jobs: Pick<PupilJobs, 'read'>, kind: JobKind, school: string, id: string): Promise<JobState> {
  const job = await jobs.read(id);
  if (!job || job.school !== school || job.kind !== kind) throw notFound();
  return job;
}

/** A finished job's result; 409 while it runs or after it failed. */
export async function resultOf<R>(jobs: Pick<PupilJobs, 'readResult'>, job: JobState): Promise<R> {
  if (job.status === 'running') throw new Problem('job_running', 409, 'The job is still running; its status shows the progress');
  if (job.status === 'failed') throw new Problem('job_failed', 409, 'The job did not finish; start it again');
  const result = await jobs.readResult(job.id);
  if (result === undefined) throw notFound();
  return result as R;
}
