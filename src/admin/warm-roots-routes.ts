import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { KeySchedule } from '../crypto/key-schedule.js';
import type { PupilJobRequest, PupilJobs } from '../privacy/pupil-jobs.js';
import { activeStudentKeys } from '../roster/roster-keys.js';
import { recordAudit } from '../store/audit.js';
import type { Db } from '../store/db.js';
import { getRegistration } from '../store/registrations.js';
import { principalOf } from './auth.js';
import { checkJobsFree, jobOf, jobParams, jobViewFields, startedView, startJob, stateView } from './jobs.js';
import { notFound } from './problem.js';
import { problems, schoolIdParam } from './schemas.js';

// Warming the pseudonym root cache for a whole roster (docs/pseudonyms.md,
// docs/roster.md): before the first school day after the summer, every
// pupil's root is derived once (one scrypt each, bounded like every admin
// derivation), so the morning when the whole school logs in is warm. A job:
// the keys are read from the sealed roster into this process's memory only;
// the state shows progress, and nothing of a pupil is kept.

export interface WarmRootsDeps {
  db: Db;
  keys: Pick<KeySchedule, 'roster'>;
  jobs: PupilJobs;
}

const schoolParams = z.strictObject({ schoolId: schoolIdParam });
const jobView = z.object(jobViewFields);

const warmRoots = (id: string, school: string, studentKeys: string[]): PupilJobRequest<null> => ({
  id, kind: 'warm-roots', school, about: { pupils: studentKeys.length }, studentKeys,
  // The root cache keeps each root (memory and the shared KV): the job itself keeps nothing.
  each: () => null,
  finish: async (items) => ({ warmed: items.length }),
});

export function registerWarmRootsRoutes(scope: FastifyInstance, deps: WarmRootsDeps): void {
  const app = scope.withTypeProvider<ZodTypeProvider>();
  const tags = ['roster'];

  app.post('/schools/:schoolId/roster/warm-roots', {
    config: { access: 'school' },
    schema: {
      tags, summary: "Derive and cache the pseudonym root of every pupil on the school's roster (a job), so their next logins are warm",
      params: schoolParams, response: { 202: startedView, ...problems },
    },
  }, async (request, reply) => {
    const school = request.params.schoolId;
    if (!(await getRegistration(deps.db, 'school', school))) throw notFound();
    checkJobsFree(deps.jobs);
    const studentKeys = await activeStudentKeys(deps.db, deps.keys, school);
    const id = randomUUID();
    await recordAudit(deps.db, { actor: principalOf(request).actor, school, action: 'warm-roots.create', target: `warm-roots:${id}`, before: null, after: { pupils: studentKeys.length } });
    return startJob(deps.jobs, request, reply, warmRoots(id, school, studentKeys));
  });

  app.get('/schools/:schoolId/roster/warm-roots/:jobId', {
    config: { access: 'school' },
    schema: { tags, summary: 'A root warm-up job: status and progress', params: jobParams, response: { 200: jobView, ...problems } },
  }, async (request) => stateView(await jobOf(deps.jobs, 'warm-roots', request.params.schoolId, request.params.jobId)));
}
