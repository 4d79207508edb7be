import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { RootSource } from '../crypto/bounded-roots.js';
import type { KeySchedule } from '../crypto/key-schedule.js';
import { pupilRefs, refsToSearch } from '../crypto/pseudonym.js';
import { affectedCountsBySchool, affectedPupils, ledgerKnows, type AffectedPupil, type BreachPeriod, type BreachTarget } from '../privacy/breach-scope.js';
import type { PupilJobRequest, PupilJobs } from '../privacy/pupil-jobs.js';
import { refsOfKey } from '../privacy/pupil-refs.js';
import type { Db } from '../store/db.js';
import { getRegistration } from '../store/registrations.js';
import { checkJobsFree, jobOf, jobParams, jobViewFields, resultOf, startedView, startJob, stateView } from './jobs.js';
import { notFound, ruleViolation } from './problem.js';
import { ROSTER_BODY_LIMIT, studentKeysSchema } from './roster.js';
import { problems, schoolIdParam, slugParam } from './schemas.js';

// Breach scope (docs/resolution-and-breach.md): after a data breach at a supplier or at one of its
// products, which pupils had data released there in a period, and which
// claims. A school sends its roster and gets back the pupils on it who are
// affected; the operator sees counts per school. Each key becomes the
// pupil's student ref through its root (docs/pseudonyms.md), so a few
// pupils are answered at once (the keys it sent, in a response only: never
// stored or logged), a whole roster as a job (positions, never keys).

export interface BreachScopeDeps {
  db: Db;
  keys: KeySchedule;
  /** Bounded: src/crypto/bounded-roots.ts. */
  roots: RootSource;
  jobs: PupilJobs;
}

/** Pupils one request answers at once; each may cost a scrypt run, a whole roster goes to a job. */
export const MAX_SYNC_PUPILS = 100;

const periodFields = { supplier: slugParam.optional(), client: slugParam.optional(), from: z.iso.date(), until: z.iso.date() };

type PeriodInput = { supplier?: string | undefined; client?: string | undefined; from: string; until: string };

/** Exactly one of supplier and client; from on or before until. */
const checkPeriod = (value: PeriodInput, ctx: z.RefinementCtx) => {
  if ((value.supplier === undefined) === (value.client === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['supplier'], message: 'give exactly one of supplier or client' });
  }
  if (value.from > value.until) ctx.addIssue({ code: 'custom', path: ['until'], message: 'must not be before from' });
};

const syncKeys = z.array(studentKeysSchema.element).min(1).max(MAX_SYNC_PUPILS, { message: `at most ${MAX_SYNC_PUPILS} keys at once; send a whole roster to breach-scope-jobs` });
const schoolBody = z.strictObject({ ...periodFields, studentKeys: syncKeys }).superRefine(checkPeriod);
const jobBody = z.strictObject({ ...periodFields, studentKeys: studentKeysSchema }).superRefine(checkPeriod);
const operatorQuery = z.strictObject(periodFields).superRefine(checkPeriod);

const affectedView = z.object({
  affected: z.array(z.object({ studentKey: z.string(), clients: z.array(z.string()), claims: z.array(z.string()), firstDay: z.string(), lastDay: z.string() })),
  rosterSize: z.number().int(),
  affectedCount: z.number().int(),
});
const affectedFields = { clients: z.array(z.string()), claims: z.array(z.string()), firstDay: z.string(), lastDay: z.string() };
const jobView = z.object({ ...jobViewFields, supplier: z.string().optional(), client: z.string().optional(), from: z.string(), until: z.string() });
const jobResultView = z.object({
  affected: z.array(z.object({ position: z.number().int(), ...affectedFields })),
  rosterSize: z.number().int(),
  affectedCount: z.number().int(),
});
const countsView = z.object({
  schools: z.array(z.object({ school: z.string(), pupils: z.number().int(), claims: z.array(z.string()) })),
  totalPupils: z.number().int(),
});

const periodOf = (input: PeriodInput): BreachPeriod => ({
  target: input.supplier !== undefined ? { supplier: input.supplier } : { client: input.client! },
  from: input.from,
  until: input.until,
});

/** What a breach-scope job stores: affected pupils by position in the roster, never a key or a ref. */
interface BreachResult {
  readonly affected: AffectedPupil[];
  readonly rosterSize: number;
  readonly affectedCount: number;
}

const aboutOf = (period: BreachPeriod) => ({ ...period.target, from: period.from, until: period.until });

const periodOfAbout = (about: Readonly<Record<string, string | number>>): ReturnType<typeof aboutOf> => ({
  ...(about.supplier !== undefined ? { supplier: String(about.supplier) } : { client: String(about.client) }),
  from: String(about.from),
  until: String(about.until),
});

function breachJob(deps: BreachScopeDeps, id: string, school: string, period: BreachPeriod, studentKeys: readonly string[]): PupilJobRequest<[string, string]> {
  return {
    id, kind: 'breach-scope', school, about: aboutOf(period), studentKeys,
    each: (root, input) => refsToSearch(pupilRefs(deps.keys, input, root)),
    finish: async (roster): Promise<BreachResult> => {
      const affected = await affectedPupils(deps.db, school, period, roster);
      return { affected, rosterSize: roster.length, affectedCount: affected.length };
    },
  };
}

export function registerBreachScopeRoutes(scope: FastifyInstance, deps: BreachScopeDeps): void {
  const app = scope.withTypeProvider<ZodTypeProvider>();
  const tags = ['breach scope'];

  /** A registered supplier or client, or one the ledger still names (its registration removed since). */
  async function requireKnownTarget(target: BreachTarget, school: string | null): Promise<void> {
    const [kind, id] = 'supplier' in target ? (['supplier', target.supplier] as const) : (['client', target.client] as const);
    if ((await getRegistration(deps.db, kind, id)) || (await ledgerKnows(deps.db, target, school))) return;
    throw ruleViolation('unknown_reference', 422, `The request names an unknown ${kind}`, kind, `no such ${kind}`);
  }

  /** The school exists, and the target is known to it. */
  async function checkRequest(school: string, period: BreachPeriod): Promise<void> {
    if (!(await getRegistration(deps.db, 'school', school))) throw notFound();
    await requireKnownTarget(period.target, school);
  }

  app.post('/schools/:schoolId/breach-scope', {
    config: { access: 'school' },
    schema: {
      tags, summary: `The pupils among a few (at most ${MAX_SYNC_PUPILS}) who had data released to a supplier or client in a period`,
      params: z.strictObject({ schoolId: schoolIdParam }), body: schoolBody, response: { 200: affectedView, ...problems },
    },
  }, async (request) => {
    const school = request.params.schoolId;
    const period = periodOf(request.body);
    await checkRequest(school, period);
    const { studentKeys } = request.body;
    // Each pupil answers for the first key that names it (keys equal after NFC are one pupil).
    const roster = await Promise.all(studentKeys.map(async (key) => refsToSearch(await refsOfKey(deps, school, key))));
    const affected = (await affectedPupils(deps.db, school, period, roster)).map(({ position, ...a }) => ({ studentKey: studentKeys[position]!, ...a }));
    return { affected, rosterSize: studentKeys.length, affectedCount: affected.length };
  });

  app.post('/schools/:schoolId/breach-scope-jobs', {
    bodyLimit: ROSTER_BODY_LIMIT,
    config: { access: 'school' },
    schema: {
      tags, summary: 'The pupils on a whole roster who had data released to a supplier or client in a period (a job; the keys are never stored)',
      params: z.strictObject({ schoolId: schoolIdParam }), body: jobBody, response: { 202: startedView, ...problems },
    },
  }, async (request, reply) => {
    const school = request.params.schoolId;
    const period = periodOf(request.body);
    await checkRequest(school, period);
    checkJobsFree(deps.jobs);
    return startJob(deps.jobs, request, reply, breachJob(deps, randomUUID(), school, period, request.body.studentKeys));
  });

  app.get('/schools/:schoolId/breach-scope-jobs/:jobId', {
    config: { access: 'school' },
    schema: { tags, summary: "A breach-scope job's status and progress", params: jobParams, response: { 200: jobView, ...problems } },
  }, async (request) => {
    const job = await jobOf(deps.jobs, 'breach-scope', request.params.schoolId, request.params.jobId);
    return { ...stateView(job), ...periodOfAbout(job.about) };
  });

  app.get('/schools/:schoolId/breach-scope-jobs/:jobId/result', {
    config: { access: 'school' },
    schema: { tags, summary: "A finished breach-scope job's affected pupils, by position in the roster sent", params: jobParams, response: { 200: jobResultView, ...problems } },
  }, async (request) => {
    const job = await jobOf(deps.jobs, 'breach-scope', request.params.schoolId, request.params.jobId);
    return resultOf<BreachResult>(deps.jobs, job);
  });

  app.get('/breach-scope', {
    config: { access: 'operator' },
    schema: {
      tags, summary: 'Per school, how many pupils had data released to a supplier or client in a period',
      querystring: operatorQuery, response: { 200: countsView, ...problems },
    },
  }, async (request) => {
    const period = periodOf(request.query);
    await requireKnownTarget(period.target, null);
    const schools = await affectedCountsBySchool(deps.db, period);
    return { schools, totalPupils: schools.reduce((sum, s) => sum + s.pupils, 0) };
  });
}
