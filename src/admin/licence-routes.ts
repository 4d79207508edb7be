import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { recordAudit } from '../store/audit.js';
import type { Queryable } from '../store/db.js';
import { deleteLicence, getLicence, licencesFor, listLicences, periodsOverlap, putLicence, type StoredLicence } from '../store/licences.js';
import { getRegistration } from '../store/registrations.js';
import type { StoredClient } from '../store/seed-file.js';
import { licenceBodySchema, type LicenceBody, type LicenceReg } from '../store/seed-schema.js';
import { principalOf } from './auth.js';
import { commitChange, type AdminDeps } from './changes.js';
import { notFound, ruleViolation } from './problem.js';
import { pageOf, pageQuery, problems, schoolIdParam, timestamps } from './schemas.js';

// A school admin's licences (docs/release.md): which product, for whom
// (whole school, groups or grades), which claims, from when until when.
// The rules, in order: the school exists, the client exists, the claims lie
// within the client's ceiling, and no other licence of the school for that
// client is valid on any of the same days.

const schoolParams = z.strictObject({ schoolId: schoolIdParam });
const licenceParams = z.strictObject({ schoolId: schoolIdParam, licenceId: z.uuid() });

const licenceView = z.object({
  id: z.string(),
  school: z.string(),
  client: z.string(),
  claims: z.array(z.string()),
  groups: z.array(z.string()).optional(),
  grades: z.array(z.number().int()).optional(),
  validFrom: z.string().optional(),
  validUntil: z.string().optional(),
  ...timestamps,
});

const view = (s: StoredLicence) => ({ id: s.id, ...s.licence, createdAt: s.createdAt, updatedAt: s.updatedAt });

/** Locks the school row, so two licence changes of one school cannot both pass the overlap rule. */
async function lockSchool(tx: Queryable, school: string): Promise<void> {
  const rows = await tx.query('SELECT id FROM schools WHERE id = $1 FOR UPDATE', [school]);
  if (!rows.length) throw notFound();
}

async function checkLicence(tx: Queryable, licence: LicenceReg, except?: string): Promise<void> {
  const client = await getRegistration<StoredClient>(tx, 'client', licence.client);
  if (!client) throw ruleViolation('unknown_reference', 422, 'The licence names an unknown client', 'client', 'no such client');
  const outside = licence.claims.filter((c) => !client.doc.claims.includes(c));
  if (outside.length) {
    throw ruleViolation('claims_outside_ceiling', 422, "The licence releases claims outside the client's ceiling", 'claims', `not allowed for this client: ${outside.join(', ')}`);
  }
  const others = await licencesFor(tx, licence.school, licence.client, except);
  if (others.some((o) => periodsOverlap(o.licence, licence))) {
    throw ruleViolation('overlapping_validity', 409, 'Another licence of this school for this client is valid on some of the same days', 'validFrom', 'overlaps an existing licence');
  }
}

const toLicence = (school: string, body: LicenceBody): LicenceReg => ({ school, ...body });

export function registerLicenceRoutes(scope: FastifyInstance, deps: AdminDeps): void {
  const app = scope.withTypeProvider<ZodTypeProvider>();
  const tags = ['licences'];

  app.get('/schools/:schoolId/licences', {
    config: { access: 'school' },
    schema: { tags, summary: "List the school's licences (creation order)", params: schoolParams, querystring: pageQuery, response: { 200: pageOf(licenceView), ...problems } },
  }, async (request) => {
    if (!(await getRegistration(deps.db, 'school', request.params.schoolId))) throw notFound();
    const page = await listLicences(deps.db, request.params.schoolId, request.query);
    return { items: page.items.map(view), total: page.total, ...request.query };
  });

  app.post('/schools/:schoolId/licences', {
    config: { access: 'school' },
    schema: { tags, summary: 'Add a licence', params: schoolParams, body: licenceBodySchema, response: { 201: licenceView, ...problems } },
  }, async (request, reply) => {
    const licence = toLicence(request.params.schoolId, request.body);
    const id = randomUUID();
    const stored = await commitChange(deps, async (tx) => {
      await lockSchool(tx, licence.school);
      await checkLicence(tx, licence);
      await putLicence(tx, id, licence);
      await recordAudit(tx, { actor: principalOf(request).actor, school: licence.school, action: 'licence.create', target: `licence:${id}`, before: null, after: licence });
      return (await getLicence(tx, licence.school, id))!;
    });
    return reply.code(201).send(view(stored));
  });

  app.get('/schools/:schoolId/licences/:licenceId', {
    config: { access: 'school' },
    schema: { tags, summary: 'Read a licence', params: licenceParams, response: { 200: licenceView, ...problems } },
  }, async (request) => {
    const stored = await getLicence(deps.db, request.params.schoolId, request.params.licenceId);
    if (!stored) throw notFound();
    return view(stored);
  });

  app.put('/schools/:schoolId/licences/:licenceId', {
    config: { access: 'school' },
    schema: { tags, summary: 'Change a licence', params: licenceParams, body: licenceBodySchema, response: { 200: licenceView, ...problems } },
  }, async (request) => {
    const { schoolId, licenceId } = request.params;
    const licence = toLicence(schoolId, request.body);
    const stored = await commitChange(deps, async (tx) => {
      await lockSchool(tx, schoolId);
      const before = await getLicence(tx, schoolId, licenceId, true);
      if (!before) throw notFound();
      await checkLicence(tx, licence, licenceId);
      await putLicence(tx, licenceId, licence);
      await recordAudit(tx, { actor: principalOf(request).actor, school: schoolId, action: 'licence.update', target: `licence:${licenceId}`, before: before.licence, after: licence });
      return (await getLicence(tx, schoolId, licenceId))!;
    });
    return view(stored);
  });

  app.delete('/schools/:schoolId/licences/:licenceId', {
    config: { access: 'school' },
    schema: { tags, summary: 'Delete a licence', params: licenceParams, response: { 204: z.null(), ...problems } },
  }, async (request, reply) => {
    const { schoolId, licenceId } = request.params;
    await commitChange(deps, async (tx) => {
      const before = await deleteLicence(tx, schoolId, licenceId);
      if (!before) throw notFound();
      await recordAudit(tx, { actor: principalOf(request).actor, school: schoolId, action: 'licence.delete', target: `licence:${licenceId}`, before, after: null });
    });
    return reply.code(204).send(null);
  });
}
