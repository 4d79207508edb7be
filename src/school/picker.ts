import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PageError } from '../errors.js';
import { takeFromPicker, waitingForPicker } from '../login/pending.js';
import { PICKER_PATH, sendToSchool, type StartDeps } from '../login/start.js';
import { collectParams, single } from '../http/params.js';
import { preferredLanguage } from '../pages/language.js';
import { pageContextFor, type ServiceName } from '../pages/page.js';
import { renderPicker, type PickerSchool } from '../pages/picker-page.js';
import { gatewayCookies, readCookie, setCookie } from '../session/cookies.js';
import type { Kv } from '../store/kv.js';
import type { Registry } from '../store/registry.js';

// GET /school/select: the school picker (where-are-you-from), for an
// /authorize that names no school and finds none remembered. The verified
// authorization request waits in the KV (src/login/pending.ts) while the
// pupil searches; choosing a school takes it (once) and continues to that
// school's login. The choice is remembered in a cookie, so the next login
// skips the page.

const HANDLE = /^[A-Za-z0-9_-]{43}$/;
const MAX_QUERY = 100;
const MAX_SHOWN = 20;
/** How long the browser remembers the chosen school. */
const REMEMBER_SCHOOL_S = 180 * 24 * 3600;

export interface PickerDeps extends StartDeps {
  readonly kv: Pick<Kv, 'get' | 'set' | 'take'>;
  readonly registry: () => Registry;
  readonly service: ServiceName;
}

export function registerPicker(app: FastifyInstance, deps: PickerDeps): void {
  const cookies = gatewayCookies(deps.issuer);
  app.get(PICKER_PATH, { config: { errorStyle: 'page', loginStep: 'picker' } }, async (request, reply) => {
    const params = collectParams(request);
    const handle = single(params, 'login');
    if (handle === undefined || !HANDLE.test(handle)) throw expired();
    const schoolId = single(params, 'school');
    if (schoolId !== undefined) {
      const school = deps.registry().schools.get(schoolId);
      if (!school) throw new PageError('school_required', 400, 'Unknown school');
      const picking = await takeFromPicker(deps.kv, handle, readCookie(request, cookies.login));
      request.product = picking.authz.clientId;
      setCookie(reply, cookies.school, school.id, REMEMBER_SCHOOL_S);
      request.outcome = { school: school.id, picked: true };
      return reply.code(303).header('location', await sendToSchool(deps, school, picking)).send();
    }
    const waiting = await waitingForPicker(deps.kv, handle);
    if (!waiting) throw expired();
    request.product = waiting.authz.clientId;
    return sendPicker(request, reply, deps, handle, (single(params, 'q') ?? '').slice(0, MAX_QUERY).trim());
  });
}

const expired = () => new PageError('login_expired', 400, 'No pending login for this page');

function sendPicker(request: FastifyRequest, reply: FastifyReply, deps: PickerDeps, login: string, query: string) {
  const registry = deps.registry();
  const all = [...registry.schools.values()];
  // Few schools (a small deployment, the demo): list them all. Otherwise the pupil searches first.
  const matches = query === '' ? (all.length <= MAX_SHOWN ? all : []) : all.filter(matcher(query));
  const schools: PickerSchool[] = matches
    .map((s) => ({ id: s.id, name: s.name }))
    .sort((a, b) => a.name.localeCompare(b.name, 'nl'))
    .slice(0, MAX_SHOWN);
  const context = pageContextFor(deps.service, registry, request.product);
  const html = renderPicker({ login, query, schools, truncated: matches.length > MAX_SHOWN, language: preferredLanguage(request), context });
  return reply.header('cache-control', 'no-store').type('text/html; charset=utf-8').send(html);
}

/** Case- and accent-insensitive match on the name, or a BRIN prefix ("12ab" finds 12AB and 12AB01). */
function matcher(query: string): (school: { id: string; name: string }) => boolean {
  const fold = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
  const q = fold(query);
  return (school) => fold(school.name).includes(q) || school.id.toLowerCase().startsWith(q);
}
