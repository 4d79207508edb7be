import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { KeySchedule } from '../crypto/key-schedule.js';
import { pupilInput, studentRef } from '../crypto/pseudonym.js';
import { affectedCountsBySchool, affectedRefs, ledgerKnows, type BreachPeriod, type BreachTarget } from '../privacy/breach-scope.js';
import type { Db } from '../store/db.js';
import { getRegistration } from '../store/registrations.js';
import { notFound, ruleViolation } from './problem.js';
import { ROSTER_BODY_LIMIT, studentKeysSchema } from './roster.js';
import { problems, schoolIdParam, slugParam } from './schemas.js';

// Breach scope (docs/resolution-and-breach.md): after a data breach at a supplier or at one of its
// products, which pupils had data released there in a period, and which
// claims. A school sends its roster and gets back the pupils on it who are
// affected (the keys it sent, in a response only: never stored or logged);
// the operator sees counts per school.

export interface BreachScopeDeps {
  db: Db;
  keys: KeySchedule;
}

const periodFields = { supplier: slugParam.optional(), client: slugParam.optional(), from: z.iso.date(), until: z.iso.date() };

type PeriodInput = { supplier?: string | undefined; client?: string | undefined; from: string; until: string };

/** Exactly one of supplier and client; from on or before until. */
const checkPeriod = (value: PeriodInput, ctx: z.RefinementCtx) => {
  if ((value.supplier === undefined) === (value.client === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['supplier'], message: 'give exactly one of supplier or client' });
  }
  if (value.from > value.until) ctx.addIssue({ code: 'custom', path: ['until'], message: 'must not be before from' });
};

const schoolBody = z.strictObject({ ...periodFields, studentKeys: studentKeysSchema }).superRefine(checkPeriod);
const operatorQuery = z.strictObject(periodFields).superRefine(checkPeriod);

const affectedView = z.object({
  affected: z.array(z.object({ studentKey: z.string(), clients: z.array(z.string()), claims: z.array(z.string()), firstDay: z.string(), lastDay: z.string() })),
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

export function registerBreachScopeRoutes(scope: FastifyInstance, deps: BreachScopeDeps): void {
  const app = scope.withTypeProvider<ZodTypeProvider>();
  const tags = ['breach scope'];

  /** A registered supplier or client, or one the ledger still names (its registration removed since). */
  async function requireKnownTarget(target: BreachTarget, school: string | null): Promise<void> {
    const [kind, id] = 'supplier' in target ? (['supplier', target.supplier] as const) : (['client', target.client] as const);
    if ((await getRegistration(deps.db, kind, id)) || (await ledgerKnows(deps.db, target, school))) return;
    throw ruleViolation('unknown_reference', 422, `The request names an unknown ${kind}`, kind, `no such ${kind}`);
  }

  app.post('/schools/:schoolId/breach-scope', {
    bodyLimit: ROSTER_BODY_LIMIT,
    config: { access: 'school' },
    schema: {
      tags, summary: 'The pupils on the roster who had data released to a supplier or client in a period',
      params: z.strictObject({ schoolId: schoolIdParam }), body: schoolBody, response: { 200: affectedView, ...problems },
    },
  }, async (request) => {
    const school = request.params.schoolId;
    if (!(await getRegistration(deps.db, 'school', school))) throw notFound();
    const period = periodOf(request.body);
    await requireKnownTarget(period.target, school);
    // Each ref answers for the first key on the roster that has it (keys equal after NFC share one).
    const keyOfRef = new Map<string, string>();
    for (const key of request.body.studentKeys) {
      const ref = studentRef(deps.keys, pupilInput(school, key));
      if (!keyOfRef.has(ref)) keyOfRef.set(ref, key);
    }
    const found = new Map((await affectedRefs(deps.db, school, period, [...keyOfRef.keys()])).map((a) => [a.studentRef, a]));
    const affected = [...keyOfRef].flatMap(([ref, studentKey]) => {
      const a = found.get(ref);
      return a ? [{ studentKey, clients: a.clients, claims: a.claims, firstDay: a.firstDay, lastDay: a.lastDay }] : [];
    });
    return { affected, rosterSize: request.body.studentKeys.length, affectedCount: affected.length };
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
