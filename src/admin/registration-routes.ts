import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { recordAudit } from '../store/audit.js';
import type { Queryable } from '../store/db.js';
import {
  deleteRegistration,
  getRegistration,
  listRegistrations,
  putRegistration,
  type RegistrationKind,
} from '../store/registrations.js';
import type { Access } from './auth.js';
import { principalOf } from './auth.js';
import { commitChange, type AdminDeps } from './changes.js';
import { invalidField, notFound, Problem } from './problem.js';
import { pageOf, pageQuery, problems } from './schemas.js';

// Operator routes for schools, suppliers and clients, one shape for all three:
// list, create, read, replace, delete. Documents are validated by the seed
// schemas (src/store/seed-schema.ts), so the seed file and the API agree.

export interface RegistrationResource<Reg, Stored> {
  kind: RegistrationKind;
  /** Path segment: schools, suppliers, clients. */
  plural: string;
  param: string;
  paramSchema: z.ZodType<string>;
  body: z.ZodType<Reg>;
  /** The response shape: it is what strips stored fields that must not leave (secret hashes). */
  view: z.ZodType;
  idField: string;
  idOf: (reg: Reg) => string;
  /** Who may read one (schools: the school's own admins too). */
  readAccess: Access;
  toStored: (reg: Reg) => Stored;
  /** Fills in what the gateway makes itself (a client's generated secret) and what the response shows of it, once. */
  prepare?: (reg: Reg) => { reg: Reg; shown?: Record<string, string> };
  toView: (stored: Stored) => unknown;
  /** The school an audit event concerns. */
  schoolOf: (id: string) => string | null;
  /** Cross-reference rules, checked in the change's transaction. */
  check?: (tx: Queryable, reg: Reg) => Promise<void>;
  supplierOf?: (reg: Reg) => string;
}

export function registerRegistrationRoutes<Reg, Stored>(scope: FastifyInstance, deps: AdminDeps, r: RegistrationResource<Reg, Stored>): void {
  const app = scope.withTypeProvider<ZodTypeProvider>();
  const base = `/${r.plural}`;
  const one = `${base}/:${r.param}`;
  const params = z.strictObject({ [r.param]: r.paramSchema });
  const idParam = (p: unknown) => (p as Record<string, string>)[r.param]!;
  const tags = [r.plural];

  app.get(base, {
    config: { access: 'operator' },
    schema: { tags, summary: `List ${r.plural} (id order)`, querystring: pageQuery, response: { 200: pageOf(r.view), ...problems } },
  }, async (request) => {
    const page = await listRegistrations<Stored>(deps.db, r.kind, request.query);
    return { items: page.items.map((s) => r.toView(s.doc)), total: page.total, ...request.query };
  });

  app.post(base, {
    config: { access: 'operator' },
    schema: { tags, summary: `Register a ${r.kind}`, body: r.body, response: { 201: r.view, ...problems } },
  }, async (request, reply) => {
    const { reg, shown } = r.prepare?.(request.body as Reg) ?? { reg: request.body as Reg };
    const id = r.idOf(reg);
    const stored = await commitChange(deps, async (tx) => {
      if (await getRegistration(tx, r.kind, id)) throw new Problem('already_exists', 409, `This ${r.kind} is already registered`, [{ field: r.idField, detail: 'is taken' }]);
      await r.check?.(tx, reg);
      const doc = r.toStored(reg);
      await putRegistration(tx, r.kind, id, doc, r.supplierOf?.(reg));
      await recordAudit(tx, { actor: principalOf(request).actor, school: r.schoolOf(id), action: `${r.kind}.create`, target: `${r.kind}:${id}`, before: null, after: r.toView(doc) });
      return doc;
    });
    return reply.code(201).send({ ...(r.toView(stored) as object), ...shown });
  });

  app.get(one, {
    config: { access: r.readAccess },
    schema: { tags, summary: `Read a ${r.kind}`, params, response: { 200: r.view, ...problems } },
  }, async (request) => {
    const stored = await getRegistration<Stored>(deps.db, r.kind, idParam(request.params));
    if (!stored) throw notFound();
    return r.toView(stored.doc);
  });

  app.put(one, {
    config: { access: 'operator' },
    schema: { tags, summary: `Replace a ${r.kind}`, params, body: r.body, response: { 200: r.view, ...problems } },
  }, async (request) => {
    const id = idParam(request.params);
    const { reg, shown } = r.prepare?.(request.body as Reg) ?? { reg: request.body as Reg };
    if (r.idOf(reg) !== id) throw invalidField(r.idField, 'must equal the id in the path');
    const stored = await commitChange(deps, async (tx) => {
      const before = await getRegistration<Stored>(tx, r.kind, id);
      if (!before) throw notFound();
      await r.check?.(tx, reg);
      const doc = r.toStored(reg);
      await putRegistration(tx, r.kind, id, doc, r.supplierOf?.(reg));
      await recordAudit(tx, { actor: principalOf(request).actor, school: r.schoolOf(id), action: `${r.kind}.update`, target: `${r.kind}:${id}`, before: r.toView(before.doc), after: r.toView(doc) });
      return doc;
    });
    return { ...(r.toView(stored) as object), ...shown };
  });

  app.delete(one, {
    config: { access: 'operator' },
    schema: { tags, summary: `Delete a ${r.kind} (refused while still referenced)`, params, response: { 204: z.null(), ...problems } },
  }, async (request, reply) => {
    const id = idParam(request.params);
    await commitChange(deps, async (tx) => {
      const before = await deleteRegistration<Stored>(tx, r.kind, id);
      if (before === undefined) throw notFound();
      await recordAudit(tx, { actor: principalOf(request).actor, school: r.schoolOf(id), action: `${r.kind}.delete`, target: `${r.kind}:${id}`, before: r.toView(before), after: null });
    });
    return reply.code(204).send(null);
  });
}
