import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { KeySchedule } from '../crypto/key-schedule.js';
import { groupPseudonym, subjectPseudonym } from '../crypto/pseudonym.js';
import type { JobState } from '../privacy/job-store.js';
import type { PupilJobRequest, PupilJobs } from '../privacy/pupil-jobs.js';
import { recordAudit } from '../store/audit.js';
import type { Db } from '../store/db.js';
import { getRegistration } from '../store/registrations.js';
import type { Supplier } from '../store/registry.js';
import { principalOf } from './auth.js';
import { csvDocument, sendCsv, wantsCsv } from './csv.js';
import { checkJobsFree, jobOf, jobParams, jobViewFields, resultOf, startedView, startJob, stateView } from './jobs.js';
import { notFound, ruleViolation } from './problem.js';
import { groupKeysSchema, ROSTER_BODY_LIMIT, studentKeysSchema } from './roster.js';
import { problems, schoolIdParam, slugParam } from './schemas.js';

// Results back to pupils (docs/resolution-and-breach.md): a school admin turns its pupils' keys into
// their pseudonyms at one supplier, so results a publisher reports under
// pseudonyms can be matched. A job: started here, run in this process, read
// from any process (docs/resolution-and-breach.md).

export interface PseudonymJobDeps {
  db: Db;
  keys: KeySchedule;
  jobs: PupilJobs;
}

/** What a resolution job stores: pseudonyms only, at the positions of the request's keys. */
interface ResolutionResult {
  readonly students: readonly string[];
  readonly groups: readonly string[];
}

const schoolParams = z.strictObject({ schoolId: schoolIdParam });

const jobBody = z.strictObject({
  supplier: slugParam,
  studentKeys: studentKeysSchema,
  groupKeys: groupKeysSchema.default([]),
});

const jobView = z.object({ ...jobViewFields, supplier: z.string(), keyVersion: z.number().int() });
const resultView = z.object({
  supplier: z.string(),
  keyVersion: z.number().int(),
  students: z.array(z.object({ position: z.number().int(), sub: z.string() })),
  groups: z.array(z.object({ position: z.number().int(), pseudonym: z.string() })),
});

const aboutOf = (s: JobState) => ({ supplier: String(s.about.supplier), keyVersion: Number(s.about.keyVersion) });

const CSV_HEADERS = ['Soort (kind)', 'Positie (position)', 'Pseudoniem (pseudonym)'];

/** One row per pupil, then one per group, each at its position in the request. */
const resultCsv = (result: ResolutionResult) =>
  csvDocument(CSV_HEADERS, [
    ...result.students.map((sub, position) => ['leerling (student)', position, sub]),
    ...result.groups.map((pseudonym, position) => ['groep (group)', position, pseudonym]),
  ]);

/** Each pupil's sub at the supplier's current key version, and the group pseudonyms (HMACs, no root). */
function resolution(keys: KeySchedule, id: string, school: string, supplier: Supplier, body: z.infer<typeof jobBody>): PupilJobRequest<string> {
  const key = keys.supplier(supplier.id, supplier.keyVersion);
  return {
    id, kind: 'resolution', school, about: { supplier: supplier.id, keyVersion: supplier.keyVersion }, studentKeys: body.studentKeys,
    each: (root) => subjectPseudonym(key, root),
    finish: async (students): Promise<ResolutionResult> => ({ students, groups: body.groupKeys.map((g) => groupPseudonym(key, school, g)) }),
  };
}

export function registerPseudonymJobRoutes(scope: FastifyInstance, deps: PseudonymJobDeps): void {
  const app = scope.withTypeProvider<ZodTypeProvider>();
  const tags = ['results back to pupils'];

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
    checkJobsFree(deps.jobs);
    // Linking pseudonyms back to pupils is accountable: audited before it starts, with who, when,
    // which supplier and how many keys (never a key). An audit that cannot be written stops the job.
    const id = randomUUID();
    await recordAudit(deps.db, {
      actor: principalOf(request).actor, school, action: 'pseudonym-job.create', target: `pseudonym-job:${id}`,
      before: null, after: { supplier: supplier.id, keyVersion: supplier.keyVersion, students: studentKeys.length, groups: groupKeys.length },
    });
    return startJob(deps.jobs, request, reply, resolution(deps.keys, id, school, supplier, request.body));
  });

  app.get('/schools/:schoolId/pseudonym-jobs/:jobId', {
    config: { access: 'school' },
    schema: { tags, summary: "A resolution job's status and progress", params: jobParams, response: { 200: jobView, ...problems } },
  }, async (request) => {
    const job = await jobOf(deps.jobs, 'resolution', request.params.schoolId, request.params.jobId);
    return { ...stateView(job), ...aboutOf(job) };
  });

  app.get('/schools/:schoolId/pseudonym-jobs/:jobId/result', {
    config: { access: 'school' },
    schema: {
      tags, summary: "A finished job's pseudonyms in input order (JSON, or CSV with Accept: text/csv or ?format=csv)",
      params: jobParams, querystring: z.strictObject({ format: z.enum(['json', 'csv']).optional() }),
      response: { 200: { description: 'JSON, or the same pseudonyms as a CSV download', content: { 'application/json': { schema: resultView }, 'text/csv': { schema: z.string() } } }, ...problems },
    },
  }, async (request, reply) => {
    const job = await jobOf(deps.jobs, 'resolution', request.params.schoolId, request.params.jobId);
    const result = await resultOf<ResolutionResult>(deps.jobs, job);
    const { supplier, keyVersion } = aboutOf(job);
    if (wantsCsv(request.query.format, request.headers.accept)) return sendCsv(reply, `pseudoniemen-${supplier}-${job.id}.csv`, resultCsv(result));
    return {
      supplier,
      keyVersion,
      students: result.students.map((sub, position) => ({ position, sub })),
      groups: result.groups.map((pseudonym, position) => ({ position, pseudonym })),
    };
  });
}
