import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { JobResult, JobState } from '../privacy/resolution-job-store.js';
import { JobsBusyError, type ResolutionJobs } from '../privacy/resolution-jobs.js';
import { recordAudit } from '../store/audit.js';
import type { Db } from '../store/db.js';
import { getRegistration } from '../store/registrations.js';
import type { Supplier } from '../store/registry.js';
import { principalOf } from './auth.js';
import { csvDocument, sendCsv, wantsCsv } from './csv.js';
import { notFound, Problem, ruleViolation } from './problem.js';
import { groupKeysSchema, ROSTER_BODY_LIMIT, studentKeysSchema } from './roster.js';
import { problems, schoolIdParam, slugParam } from './schemas.js';

// Results back to pupils (docs/resolution-and-breach.md): a school admin turns its pupils' keys into
// their pseudonyms at one supplier, so results a publisher reports under
// pseudonyms can be matched. A job: started here, run in this process, read
// from any process (docs/resolution-and-breach.md).

export interface PseudonymJobDeps {
  db: Db;
  jobs: ResolutionJobs;
}

/** How long a caller refused for busy jobs should wait: about one small job. */
const BUSY_RETRY_AFTER_S = 30;

const schoolParams = z.strictObject({ schoolId: schoolIdParam });
const jobParams = z.strictObject({ schoolId: schoolIdParam, jobId: z.uuid() });

const jobBody = z.strictObject({
  supplier: slugParam,
  studentKeys: studentKeysSchema,
  groupKeys: groupKeysSchema.default([]),
});

const startedView = z.object({ id: z.string(), status: z.enum(['running', 'done', 'failed']), total: z.number().int(), done: z.number().int() });
const jobView = startedView.extend({
  supplier: z.string(),
  keyVersion: z.number().int(),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
  reason: z.enum(['interrupted', 'error']).optional(),
});
const resultView = z.object({
  supplier: z.string(),
  keyVersion: z.number().int(),
  students: z.array(z.object({ position: z.number().int(), sub: z.string() })),
  groups: z.array(z.object({ position: z.number().int(), pseudonym: z.string() })),
});

const view = (s: JobState) => ({
  id: s.id, supplier: s.supplier, keyVersion: s.keyVersion, status: s.status, total: s.total, done: s.done, startedAt: s.startedAt,
  ...(s.finishedAt === undefined ? {} : { finishedAt: s.finishedAt }),
  ...(s.reason === undefined ? {} : { reason: s.reason }),
});

const CSV_HEADERS = ['Soort (kind)', 'Positie (position)', 'Pseudoniem (pseudonym)'];

/** One row per pupil, then one per group, each at its position in the request. */
const resultCsv = (result: JobResult) =>
  csvDocument(CSV_HEADERS, [
    ...result.students.map((sub, position) => ['leerling (student)', position, sub]),
    ...result.groups.map((pseudonym, position) => ['groep (group)', position, pseudonym]),
  ]);

export function registerPseudonymJobRoutes(scope: FastifyInstance, deps: PseudonymJobDeps): void {
  const app = scope.withTypeProvider<ZodTypeProvider>();
  const tags = ['results back to pupils'];

  /** The job, if it is this school's: another school's job is exactly a missing one. */
  async function jobOf(school: string, id: string): Promise<JobState> {
    const job = await deps.jobs.read(id);
    if (!job || job.school !== school) throw notFound();
    return job;
  }

  async function supplierOf(id: string): Promise<Supplier> {
    const supplier = await getRegistration<Supplier>(deps.db, 'supplier', id);
    if (!supplier) throw ruleViolation('unknown_reference', 422, 'The job names an unknown supplier', 'supplier', 'no such supplier');
    return supplier.doc;
  }

  app.post('/schools/:schoolId/pseudonym-jobs', {
    bodyLimit: ROSTER_BODY_LIMIT,
    config: { access: 'school' },
    schema: {
      tags, summary: "Resolve pupils' pseudonyms at a supplier (a job; the keys are never stored)",
      params: schoolParams, body: jobBody, response: { 202: startedView, ...problems },
    },
  }, async (request, reply) => {
    const school = request.params.schoolId;
    if (!(await getRegistration(deps.db, 'school', school))) throw notFound();
    const supplier = await supplierOf(request.body.supplier);
    const { studentKeys, groupKeys } = request.body;
    const busy = () => new Problem('jobs_busy', 503, 'Too many resolution jobs are running, try again later', [], BUSY_RETRY_AFTER_S);
    if (!deps.jobs.canStart()) throw busy();
    // Linking pseudonyms back to pupils is accountable: audited before it starts, with who, when,
    // which supplier and how many keys (never a key). An audit that cannot be written stops the job.
    const id = randomUUID();
    await recordAudit(deps.db, {
      actor: principalOf(request).actor, school, action: 'pseudonym-job.create', target: `pseudonym-job:${id}`,
      before: null, after: { supplier: supplier.id, keyVersion: supplier.keyVersion, students: studentKeys.length, groups: groupKeys.length },
    });
    const job = await deps.jobs.start({ id, school, supplier, studentKeys, groupKeys }).catch((err: unknown) => {
      throw err instanceof JobsBusyError ? busy() : err;
    });
    return reply.code(202).header('location', `${request.url.split('?')[0]}/${job.id}`).send({ id: job.id, status: job.status, total: job.total, done: job.done });
  });

  app.get('/schools/:schoolId/pseudonym-jobs/:jobId', {
    config: { access: 'school' },
    schema: { tags, summary: "A resolution job's status and progress", params: jobParams, response: { 200: jobView, ...problems } },
  }, async (request) => view(await jobOf(request.params.schoolId, request.params.jobId)));

  app.get('/schools/:schoolId/pseudonym-jobs/:jobId/result', {
    config: { access: 'school' },
    schema: {
      tags, summary: "A finished job's pseudonyms in input order (JSON, or CSV with Accept: text/csv or ?format=csv)",
      params: jobParams, querystring: z.strictObject({ format: z.enum(['json', 'csv']).optional() }),
      response: { 200: { description: 'JSON, or the same pseudonyms as a CSV download', content: { 'application/json': { schema: resultView }, 'text/csv': { schema: z.string() } } }, ...problems },
    },
  }, async (request, reply) => {
    const job = await jobOf(request.params.schoolId, request.params.jobId);
    if (job.status === 'running') throw new Problem('job_running', 409, 'The job is still running; its status shows the progress');
    if (job.status === 'failed') throw new Problem('job_failed', 409, 'The job did not finish; start it again');
    const result = await deps.jobs.readResult(job.id);
    if (!result) throw notFound();
    if (wantsCsv(request.query.format, request.headers.accept)) return sendCsv(reply, `pseudoniemen-${job.supplier}-${job.id}.csv`, resultCsv(result));
    return {
      supplier: job.supplier,
      keyVersion: job.keyVersion,
      students: result.students.map((sub, position) => ({ position, sub })),
      groups: result.groups.map((pseudonym, position) => ({ position, pseudonym })),
    };
  });
}
