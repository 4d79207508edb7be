import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import { daysBefore } from '../privacy/disclosures.js';
import { schoolDay } from '../release/licence.js';
import type { ImportFormat, ImportRecord } from '../roster/import-store.js';
import { latestImport } from '../roster/import-store.js';
import { checkRoster, ImportRunning, type ImportRequest, type ParsedRoster, type RosterImports } from '../roster/imports.js';
import { jsonDelta, jsonFullCandidates } from '../roster/parse-json.js';
import { parseEdexml } from '../roster/parse-edexml.js';
import { parseOneRoster } from '../roster/parse-oneroster.js';
import { personSchema } from '../roster/person.js';
import { ProblemList, RosterRefused, type RowProblem } from '../roster/problems.js';
import { rosterSize, unmatchedSince } from '../roster/roster-read.js';
import type { Db } from '../store/db.js';
import { getRegistration } from '../store/registrations.js';
import { principalOf } from './auth.js';
import { notFound, Problem } from './problem.js';
import { problems, schoolIdParam } from './schemas.js';

// The school's roster through the admin API (docs/roster.md): a full sync as
// JSON, EDEXML or a OneRoster zip (PUT), a delta as JSON (PATCH), an import's
// progress and outcome, and a summary with the count of logins that found
// nobody. A small body is imported while the caller waits (200, or 400 with
// every bad row); a larger one, or any with `Prefer: respond-async`, becomes
// an import job (202 with Location).

export interface RosterRouteDeps {
  db: Db;
  clock: Clock;
  imports: RosterImports;
  graceDays: number;
}

/** Up to 50,000 people as EDEXML or JSON with room to spare; a OneRoster zip is smaller still. */
export const ROSTER_UPLOAD_LIMIT = 64 * 1024 * 1024;
/** Bodies up to this size are imported while the caller waits. */
export const INLINE_IMPORT_BYTES = 1024 * 1024;
const UNMATCHED_DAYS = 30;

const FORMATS: Record<string, ImportFormat> = { 'application/json': 'json', 'application/xml': 'edexml', 'text/xml': 'edexml', 'application/zip': 'oneroster' };

const schoolParams = z.strictObject({ schoolId: schoolIdParam });
const importParams = z.strictObject({ schoolId: schoolIdParam, importId: z.uuid() });

const countsView = z.object({ added: z.number().int(), changed: z.number().int(), unchanged: z.number().int(), removed: z.number().int(), skipped: z.number().int() });
const rowProblem = z.object({ file: z.string(), line: z.number().int().optional(), index: z.number().int().optional(), field: z.string(), detail: z.string() });
const importView = z.object({
  id: z.string(), kind: z.enum(['full', 'delta']), format: z.enum(['json', 'edexml', 'oneroster']),
  state: z.enum(['validating', 'writing', 'done', 'refused', 'failed']), reason: z.enum(['interrupted', 'error']).optional(),
  total: z.number().int().optional(), processed: z.number().int(), counts: countsView.optional(),
  problems: z.array(rowProblem).optional(), problemCount: z.number().int(), startedAt: z.string(), finishedAt: z.string().optional(),
});
const summaryView = z.object({
  active: z.number().int(), removedPendingDeletion: z.number().int(), graceDays: z.number().int(),
  lastImport: importView.omit({ problems: true }).nullable(),
  unmatchedLogins: z.object({ lastDays: z.number().int(), total: z.number().int(), days: z.array(z.object({ day: z.string(), count: z.number().int() })) }),
});
const rosterProblem = z.object({ type: z.string(), title: z.string(), status: z.number().int(), errors: z.array(rowProblem).optional(), problemCount: z.number().int().optional(), importId: z.string().optional() });
const importResponses = { 200: importView, 202: importView, ...problems, 400: rosterProblem };

/** The request bodies, for the OpenAPI document only: the import reads and checks them itself, row by row. */
const fullBody = {
  content: {
    'application/json': { schema: z.object({ people: z.array(personSchema) }) },
    'application/xml': { schema: z.string().describe('EDEXML 2.1 (NTA 2032)') },
    'application/zip': { schema: z.string().describe('OneRoster 1.2 CSV bulk zip') },
  },
};
const deltaBody = { content: { 'application/json': { schema: z.object({ upsert: z.array(personSchema).optional(), remove: z.array(z.string()).optional() }) } } };

const view = (r: ImportRecord) => {
  const { school: _school, ...rest } = r;
  return rest;
};

function refused(problems: readonly RowProblem[], problemCount: number, importId?: string): Problem {
  return new Problem('invalid_roster', 400, 'The roster has bad rows; nothing was changed', [...problems], undefined, { problemCount, ...(importId ? { importId } : {}) });
}

export function registerRosterRoutes(scope: FastifyInstance, deps: RosterRouteDeps): void {
  scope.addContentTypeParser(['application/xml', 'text/xml', 'application/zip'], { parseAs: 'buffer', bodyLimit: ROSTER_UPLOAD_LIMIT }, (_request, body, done) => done(null, body));
  const app = scope.withTypeProvider<ZodTypeProvider>();
  const tags = ['roster'];
  // The body is checked by the import, row by row, in the same problem shape for every format.
  const bodyUnchecked: typeof validatorCompiler = (route) => (route.httpPart === 'body' ? (data: unknown) => ({ value: data }) : validatorCompiler(route));

  // A small body is checked before its import is recorded: bad rows answer 400 and leave no record. A job's
  // rows are checked in the job, and a refused job's record keeps its problems.
  async function startImport(request: FastifyRequest<{ Params: { schoolId: string } }>, reply: FastifyReply, kind: 'full' | 'delta', parse: () => Promise<ParsedRoster>, format: ImportFormat) {
    const school = request.params.schoolId;
    if (!(await getRegistration(deps.db, 'school', school))) throw notFound();
    const size = Number(request.headers['content-length'] ?? Number.POSITIVE_INFINITY);
    const async = size > INLINE_IMPORT_BYTES || /\brespond-async\b/.test(String(request.headers.prefer ?? ''));
    let check: ImportRequest['check'] = () => checkRoster(parse);
    if (!async) {
      const checked = await checkRoster(parse).catch((err: unknown) => {
        throw err instanceof RosterRefused ? refused(err.problems, err.problemCount) : err;
      });
      check = async () => checked;
    }
    const started = await deps.imports.start({ id: randomUUID(), school, actor: principalOf(request).actor, kind, format, check }).catch((err: unknown) => {
      throw err instanceof ImportRunning ? new Problem('import_running', 409, 'An import of this roster is still running; its status shows the progress') : err;
    });
    if (async) return reply.code(202).header('location', `${request.url.split('?')[0]}/imports/${started.record.id}`).send(view(started.record));
    const done = await started.run;
    if (done.state === 'refused') throw refused(done.problems ?? [], done.problemCount, done.id);
    if (done.state !== 'done') throw new Problem('server_error', 500, 'Internal error');
    return reply.code(200).send(view(done));
  }

  /** The two import routes: large bodies, checked by the import itself. */
  const importRoute = <B>(summary: string, body: B) => ({
    bodyLimit: ROSTER_UPLOAD_LIMIT,
    validatorCompiler: bodyUnchecked as never,
    config: { access: 'school' as const },
    schema: { tags, summary, params: schoolParams, body, response: importResponses },
  });

  app.put('/schools/:schoolId/roster', importRoute("Full sync of the school's roster: JSON, EDEXML 2.1 or a OneRoster 1.2 CSV zip; people absent stop logging in at once", fullBody), async (request, reply) => {
    const school = request.params.schoolId;
    const format = FORMATS[(request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()];
    if (!format) throw new Problem('unsupported_media_type', 415, 'Send application/json, application/xml (EDEXML) or application/zip (OneRoster)');
    const body = request.body;
    const parse = async (): Promise<ParsedRoster> =>
      format === 'json' ? { kind: 'full', candidates: jsonFullCandidates(body), skipped: 0, problems: new ProblemList() }
        : format === 'edexml' ? parseEdexml(body as Buffer, school) : parseOneRoster(body as Buffer, school);
    return startImport(request, reply, 'full', parse, format);
  });

  app.patch('/schools/:schoolId/roster', importRoute('Delta of the roster (JSON): upsert people, remove pupil keys', deltaBody), async (request, reply) => {
    if (!String(request.headers['content-type'] ?? '').startsWith('application/json')) throw new Problem('unsupported_media_type', 415, 'A delta is application/json');
    const body = request.body;
    return startImport(request, reply, 'delta', async () => ({ kind: 'delta', ...jsonDelta(body) }), 'json');
  });

  app.get('/schools/:schoolId/roster/imports/:importId', {
    config: { access: 'school' },
    schema: { tags, summary: "An import's state, progress, counts and problems", params: importParams, response: { 200: importView, ...problems } },
  }, async (request) => {
    const found = await deps.imports.read(request.params.schoolId, request.params.importId);
    if (!found) throw notFound();
    return view(found);
  });

  app.get('/schools/:schoolId/roster', {
    config: { access: 'school' },
    schema: { tags, summary: 'How many people the roster holds, the last import, and the logins that found nobody on it', params: schoolParams, response: { 200: summaryView, ...problems } },
  }, async (request) => {
    const school = request.params.schoolId;
    if (!(await getRegistration(deps.db, 'school', school))) throw notFound();
    const days = await unmatchedSince(deps.db, school, daysBefore(schoolDay(deps.clock.now()), UNMATCHED_DAYS - 1));
    const last = await latestImport(deps.db, school, deps.clock.now());
    return {
      ...(await rosterSize(deps.db, school)), graceDays: deps.graceDays, lastImport: last ? view(last) : null,
      unmatchedLogins: { lastDays: UNMATCHED_DAYS, total: days.reduce((n, d) => n + d.count, 0), days },
    };
  });
}
