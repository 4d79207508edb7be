import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import { createAdminToken, listAdminTokens, revokeAdminToken } from '../store/admin-tokens.js';
import { recordAudit } from '../store/audit.js';
import { getRegistration } from '../store/registrations.js';
import { principalOf } from './auth.js';
import { commitChange, type AdminDeps } from './changes.js';
import { notFound } from './problem.js';
import { problems, schoolIdParam } from './schemas.js';

// Operator routes for admin tokens: school-admin tokens per school, and
// operator tokens. The secret is in the creation response only; audit events
// record the token's id and metadata, never the secret.

export const tokenView = z.object({
  id: z.string(),
  school: z.string().nullable(),
  label: z.string(),
  createdAt: z.string(),
  expiresAt: z.string(),
  revokedAt: z.string().nullable(),
});

const createdView = tokenView.extend({ token: z.string() });

export const tokenRequest = z.strictObject({
  label: z.string().min(1).max(200),
  expiresInDays: z.number().int().min(1).max(366).default(90),
});

const DAY_MS = 86_400_000;

export function registerTokenRoutes(scope: FastifyInstance, deps: AdminDeps & { clock: Clock }): void {
  const app = scope.withTypeProvider<ZodTypeProvider>();
  const tags = ['tokens'];
  const schoolParams = z.strictObject({ schoolId: schoolIdParam });
  const schoolTokenParams = z.strictObject({ schoolId: schoolIdParam, tokenId: z.uuid() });
  const operatorTokenParams = z.strictObject({ tokenId: z.uuid() });

  const create = (request: { body: z.infer<typeof tokenRequest> }, school: string | null, actor: string) =>
    commitChange(deps, async (tx) => {
      if (school !== null && !(await getRegistration(tx, 'school', school))) throw notFound();
      const created = await createAdminToken(tx, { school, label: request.body.label, expiresAt: new Date(deps.clock.now() + request.body.expiresInDays * DAY_MS) });
      await recordAudit(tx, { actor, school, action: 'token.create', target: `token:${created.token.id}`, before: null, after: created.token });
      return { ...created.token, token: created.secret };
    });

  const revoke = (school: string | null, id: string, actor: string) =>
    commitChange(deps, async (tx) => {
      const revoked = await revokeAdminToken(tx, school, id);
      if (!revoked) throw notFound();
      await recordAudit(tx, { actor, school, action: 'token.revoke', target: `token:${id}`, before: revoked.before, after: revoked.after });
    });

  app.post('/schools/:schoolId/tokens', {
    config: { access: 'operator' },
    schema: { tags, summary: 'Create a school-admin token (the token is shown only in this response)', params: schoolParams, body: tokenRequest, response: { 201: createdView, ...problems } },
  }, async (request, reply) => reply.code(201).send(await create(request, request.params.schoolId, principalOf(request).actor)));

  app.get('/schools/:schoolId/tokens', {
    config: { access: 'operator' },
    schema: { tags, summary: "List a school's admin tokens", params: schoolParams, response: { 200: z.object({ items: z.array(tokenView) }), ...problems } },
  }, async (request) => {
    if (!(await getRegistration(deps.db, 'school', request.params.schoolId))) throw notFound();
    return { items: await listAdminTokens(deps.db, request.params.schoolId) };
  });

  app.delete('/schools/:schoolId/tokens/:tokenId', {
    config: { access: 'operator' },
    schema: { tags, summary: 'Revoke a school-admin token', params: schoolTokenParams, response: { 204: z.null(), ...problems } },
  }, async (request, reply) => {
    await revoke(request.params.schoolId, request.params.tokenId, principalOf(request).actor);
    return reply.code(204).send(null);
  });

  app.post('/operator-tokens', {
    config: { access: 'operator' },
    schema: { tags, summary: 'Create an operator token (shown only in this response)', body: tokenRequest, response: { 201: createdView, ...problems } },
  }, async (request, reply) => reply.code(201).send(await create(request, null, principalOf(request).actor)));

  app.get('/operator-tokens', {
    config: { access: 'operator' },
    schema: { tags, summary: 'List operator tokens', response: { 200: z.object({ items: z.array(tokenView) }), ...problems } },
  }, async () => ({ items: await listAdminTokens(deps.db, null) }));

  app.delete('/operator-tokens/:tokenId', {
    config: { access: 'operator' },
    schema: { tags, summary: 'Revoke an operator token', params: operatorTokenParams, response: { 204: z.null(), ...problems } },
  }, async (request, reply) => {
    await revoke(null, request.params.tokenId, principalOf(request).actor);
    return reply.code(204).send(null);
  });
}
