import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { listAudit } from '../store/audit.js';
import { getRegistration } from '../store/registrations.js';
import type { AdminDeps } from './changes.js';
import { notFound } from './problem.js';
import { pageOf, pageQuery, problems, schoolIdParam } from './schemas.js';

// Audit events, newest first: all of them for the operator, one school's for its admins.

const auditView = z.object({
  id: z.string(),
  at: z.string(),
  actor: z.string(),
  school: z.string().nullable(),
  action: z.string(),
  target: z.string(),
  before: z.unknown(),
  after: z.unknown(),
});

export function registerAuditRoutes(scope: FastifyInstance, deps: AdminDeps): void {
  const app = scope.withTypeProvider<ZodTypeProvider>();
  const tags = ['audit'];

  app.get('/audit-events', {
    config: { access: 'operator' },
    schema: { tags, summary: 'Every audit event (newest first)', querystring: pageQuery, response: { 200: pageOf(auditView), ...problems } },
  }, async (request) => ({ ...(await listAudit(deps.db, undefined, request.query)), ...request.query }));

  app.get('/schools/:schoolId/audit-events', {
    config: { access: 'school' },
    schema: { tags, summary: "The school's audit events (newest first)", params: z.strictObject({ schoolId: schoolIdParam }), querystring: pageQuery, response: { 200: pageOf(auditView), ...problems } },
  }, async (request) => {
    if (!(await getRegistration(deps.db, 'school', request.params.schoolId))) throw notFound();
    return { ...(await listAudit(deps.db, request.params.schoolId, request.query)), ...request.query };
  });
}
