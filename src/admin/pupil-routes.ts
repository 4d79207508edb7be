import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import type { RootSource } from '../crypto/bounded-roots.js';
import type { KeySchedule } from '../crypto/key-schedule.js';
import { pupilInput, refsToSearch } from '../crypto/pseudonym.js';
import { accessRequest } from '../privacy/access-request.js';
import { lockPupilRows } from '../privacy/legacy-refs.js';
import { refsOfKey } from '../privacy/pupil-refs.js';
import { accessRequestCsv } from './access-request-csv.js';
import { sendCsv, wantsCsv } from './csv.js';
import { daysBefore, deleteDisclosuresOf } from '../privacy/disclosures.js';
import type { PupilForgetting } from '../privacy/forget-pupil.js';
import { ledgerMarkerKey } from '../privacy/ledger.js';
import { deleteObjectionsOf } from '../privacy/objection-store.js';
import { schoolDay } from '../release/licence.js';
import { recordAudit } from '../store/audit.js';
import { getRegistration } from '../store/registrations.js';
import { principalOf } from './auth.js';
import { commitChange, type AdminDeps } from './changes.js';
import { notFound } from './problem.js';
import { problems, pupilFields, schoolIdParam } from './schemas.js';
import { objectionView } from './objection-routes.js';
import type { RosterChanges } from '../roster/lookup.js';
import { personView } from '../roster/person.js';
import { eraseFromRoster, rosterEntryOf } from '../roster/pupil-rights.js';

// A pupil's rights, asked for by the school on the pupil's key (always in the
// body, never in a URL): the access request (inzage) and erasure. The key is
// turned into the student ref here (through the pupil's root: one bounded
// derivation per request) and goes no further. Rows are found under both
// forms of the ref during the transition (docs/pseudonyms.md).

export interface PupilRouteDeps extends AdminDeps {
  clock: Clock;
  keys: KeySchedule;
  /** Bounded: src/crypto/bounded-roots.ts. */
  roots: RootSource;
  forgetting: PupilForgetting;
  roster: RosterChanges;
}

const schoolParams = z.strictObject({ schoolId: schoolIdParam });
const pupilBody = z.strictObject(pupilFields);

const disclosureView = z.object({
  client: z.string(),
  clientName: z.string().nullable(),
  supplier: z.string(),
  supplierName: z.string().nullable(),
  claims: z.array(z.string()),
  firstDay: z.string(),
  lastDay: z.string(),
  count: z.number().int(),
});
const rosterView = z.object({ person: personView, removedAt: z.string().nullable() }).nullable();
const accessView = z.object({ disclosures: z.array(disclosureView), objections: z.array(objectionView), roster: rosterView });
const erasedView = z.object({ disclosures: z.number().int(), objections: z.number().int(), roster: z.number().int() });

/** Ledger markers live ~26 h (ledger.ts), so only the rows of the last two school days can have one. */
const MARKER_DAYS = 2;

export function registerPupilRoutes(scope: FastifyInstance, deps: PupilRouteDeps): void {
  const app = scope.withTypeProvider<ZodTypeProvider>();
  const tags = ['pupils'];

  app.post('/schools/:schoolId/pupils/disclosures', {
    config: { access: 'school' },
    schema: {
      tags,
      summary: "Access request (inzage): every disclosure of one pupil, per product and claim set, with the pupil's objections and roster entry (JSON); the disclosures as CSV with ?format=csv or Accept: text/csv",
      params: schoolParams,
      querystring: z.strictObject({ format: z.enum(['json', 'csv']).optional() }),
      body: pupilBody,
      response: { 200: { description: 'JSON, or the same disclosures as a CSV download', content: { 'application/json': { schema: accessView }, 'text/csv': { schema: z.string() } } }, ...problems },
    },
  }, async (request, reply) => {
    const { schoolId } = request.params;
    if (!(await getRegistration(deps.db, 'school', schoolId))) throw notFound();
    const refs = await refsOfKey(deps, schoolId, request.body.studentKey);
    const found = await accessRequest(deps.db, schoolId, refsToSearch(refs));
    if (!wantsCsv(request.query.format, request.headers.accept)) {
      return { ...found, roster: await rosterEntryOf(deps.db, deps.keys, schoolId, request.body.studentKey) };
    }
    return sendCsv(reply, `inzage-${schoolId}-${schoolDay(deps.clock.now())}.csv`, accessRequestCsv(found.disclosures));
  });

  app.post('/schools/:schoolId/pupils/erase', {
    config: { access: 'school' },
    schema: {
      tags,
      summary: "Erase a pupil: ledger rows, objections, the roster entry and cached roots (the audit event names no pupil); answers the counts, also when nothing matched",
      params: schoolParams,
      body: pupilBody,
      response: { 200: erasedView, ...problems },
    },
  }, async (request) => {
    const { schoolId } = request.params;
    const input = pupilInput(schoolId, request.body.studentKey);
    const refs = await refsOfKey(deps, schoolId, request.body.studentKey);
    const counts = await commitChange(deps, async (tx) => {
      if (!(await getRegistration(tx, 'school', schoolId))) throw notFound();
      // After a move of the pupil's first-form rows at a login running now, never between its steps.
      await lockPupilRows(tx, schoolId, refs.ref);
      const rows = await deleteDisclosuresOf(tx, schoolId, refsToSearch(refs));
      const erased = {
        disclosures: rows.length,
        objections: await deleteObjectionsOf(tx, schoolId, refsToSearch(refs)),
        roster: await eraseFromRoster(tx, deps.keys, schoolId, request.body.studentKey),
      };
      await recordAudit(tx, { actor: principalOf(request).actor, school: schoolId, action: 'pupil.erased', target: 'pupil', before: null, after: erased });
      // Before the commit: when the KV cannot answer, nothing is erased (503) and the school can ask again.
      const markersSince = daysBefore(schoolDay(deps.clock.now()), MARKER_DAYS);
      await deps.forgetting.forgetShared(input, rows.filter((r) => r.day >= markersSince).map(ledgerMarkerKey));
      return erased;
    });
    await deps.forgetting.forgetInProcesses(input, refs.ref);
    if (counts.roster) await deps.roster.changed(schoolId);
    return counts;
  });
}
