import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { RootSource } from '../crypto/bounded-roots.js';
import type { KeySchedule } from '../crypto/key-schedule.js';
import { refsToSearch } from '../crypto/pseudonym.js';
import { refsOfKey } from '../privacy/pupil-refs.js';
import { deleteObjection, insertObjection, listObjections } from '../privacy/objection-store.js';
import type { ObjectionAgainst } from '../privacy/objections.js';
import { recordAudit } from '../store/audit.js';
import type { Queryable } from '../store/db.js';
import { getRegistration } from '../store/registrations.js';
import { principalOf } from './auth.js';
import { commitChange, type AdminDeps } from './changes.js';
import { notFound, ruleViolation } from './problem.js';
import { pageOf, pageQuery, problems, pupilFields, schoolIdParam, slugParam } from './schemas.js';

// Parents' objections (bezwaar, docs/privacy.md): a pupil's data is not
// released to one product, or to any product of one supplier. Registered by
// the pupil's key, stored by student ref only; nothing the API answers or
// audits carries the key or the ref. The ref comes from the pupil's root (one
// bounded derivation per request); an objection the pupil already has under
// the ref's first form counts as existing (docs/pseudonyms.md, "The
// transition"). Committed like every change: the snapshot reloads here and in
// every process, so the next login is refused.

const schoolParams = z.strictObject({ schoolId: schoolIdParam });
const objectionParams = z.strictObject({ schoolId: schoolIdParam, objectionId: z.uuid() });

const objectionBody = z
  .strictObject({ ...pupilFields, client: slugParam.optional(), supplier: slugParam.optional() })
  .refine((b) => (b.client === undefined) !== (b.supplier === undefined), { message: 'give exactly one of client or supplier', path: ['client'] });

export const objectionView = z.object({ id: z.string(), client: z.string().optional(), supplier: z.string().optional(), createdAt: z.string() });

async function checkSchool(q: Queryable, school: string): Promise<void> {
  if (!(await getRegistration(q, 'school', school))) throw notFound();
}

/** The client or supplier must be registered (422); its field names the problem. */
async function checkTarget(tx: Queryable, against: ObjectionAgainst): Promise<void> {
  const [kind, id] = 'client' in against ? (['client', against.client] as const) : (['supplier', against.supplier] as const);
  if (!(await getRegistration(tx, kind, id))) throw ruleViolation('unknown_reference', 422, `The objection names an unknown ${kind}`, kind, `no such ${kind}`);
}

export function registerObjectionRoutes(scope: FastifyInstance, deps: AdminDeps & { keys: KeySchedule; roots: RootSource }): void {
  const app = scope.withTypeProvider<ZodTypeProvider>();
  const tags = ['objections'];

  app.get('/schools/:schoolId/objections', {
    config: { access: 'school' },
    schema: { tags, summary: "List the school's objections (creation order); never names the pupil", params: schoolParams, querystring: pageQuery, response: { 200: pageOf(objectionView), ...problems } },
  }, async (request) => {
    await checkSchool(deps.db, request.params.schoolId);
    const page = await listObjections(deps.db, request.params.schoolId, request.query);
    return { items: page.items, total: page.total, ...request.query };
  });

  app.post('/schools/:schoolId/objections', {
    config: { access: 'school' },
    schema: { tags, summary: 'Register an objection of a pupil against a client or a whole supplier', params: schoolParams, body: objectionBody, response: { 201: objectionView, ...problems } },
  }, async (request, reply) => {
    const { schoolId } = request.params;
    const { studentKey, ...target } = request.body;
    const against: ObjectionAgainst = target.client === undefined ? { supplier: target.supplier! } : { client: target.client };
    const refs = refsToSearch(await refsOfKey(deps, schoolId, studentKey));
    const stored = await commitChange(deps, async (tx) => {
      await checkSchool(tx, schoolId);
      await checkTarget(tx, against);
      const id = randomUUID();
      const created = await insertObjection(tx, id, schoolId, refs, against);
      const field = 'client' in against ? 'client' : 'supplier';
      if (!created) throw ruleViolation('already_exists', 409, 'The pupil already has this objection', field, 'already objected');
      await recordAudit(tx, { actor: principalOf(request).actor, school: schoolId, action: 'objection.create', target: `objection:${id}`, before: null, after: against });
      return created;
    });
    return reply.code(201).send(stored);
  });

  app.delete('/schools/:schoolId/objections/:objectionId', {
    config: { access: 'school' },
    schema: { tags, summary: 'Withdraw an objection', params: objectionParams, response: { 204: z.null(), ...problems } },
  }, async (request, reply) => {
    const { schoolId, objectionId } = request.params;
    await commitChange(deps, async (tx) => {
      const before = await deleteObjection(tx, schoolId, objectionId);
      if (!before) throw notFound();
      const { id: _id, createdAt: _at, ...against } = before;
      await recordAudit(tx, { actor: principalOf(request).actor, school: schoolId, action: 'objection.delete', target: `objection:${objectionId}`, before: against, after: null });
    });
    return reply.code(204).send(null);
  });
}
