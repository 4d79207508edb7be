import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { GatewayContext } from '../context.js';
import { randomToken, tokenHash } from '../crypto/tokens.js';
import { PageError } from '../errors.js';
import type { AuthorizationRequest } from '../login/complete.js';
import { startSchoolLogin } from '../login/start.js';
import { LOGIN_REQUEST_TTL_S } from '../oidc/transaction.js';
import { collectParams, single } from '../oidc/params.js';
import { preferredLanguage } from '../pages/language.js';
import { renderPicker, type PickerSchool } from '../pages/picker-page.js';
import { gatewayCookies, setCookie } from '../session/cookies.js';
import type { Registry } from '../store/registry.js';

// The school picker (where-are-you-from), for an /authorize that names no
// school and finds none remembered. The verified authorization request waits
// in the KV under a random id while the pupil searches; choosing a school
// takes it (once) and continues to that school's login. The choice is
// remembered in a cookie, so the next login skips the page.

export const PICKER_PATH = '/school/select';
const LOGIN_ID = /^[A-Za-z0-9_-]{43}$/;
const MAX_QUERY = 100;
const MAX_SHOWN = 20;
/** How long the browser remembers the chosen school. */
const REMEMBER_SCHOOL_S = 180 * 24 * 3600;

const key = (login: string) => `pick:${tokenHash(login)}`;

/** Park the authorization request and send the browser to the picker. */
export async function startPicker(ctx: GatewayContext, authz: AuthorizationRequest): Promise<string> {
  const login = randomToken();
  await ctx.kv.set(key(login), JSON.stringify(authz), LOGIN_REQUEST_TTL_S * 1000);
  return `${ctx.issuer}${PICKER_PATH}?login=${login}`;
}

export function registerPicker(app: FastifyInstance, ctx: GatewayContext): void {
  const cookies = gatewayCookies(ctx.issuer);
  app.get(PICKER_PATH, { config: { errorStyle: 'page' } }, async (request, reply) => {
    const params = collectParams(request);
    const login = single(params, 'login');
    if (login === undefined || !LOGIN_ID.test(login)) throw expired();
    const schoolId = single(params, 'school');
    if (schoolId !== undefined) {
      const school = ctx.registry().schools.get(schoolId);
      if (!school) throw new PageError('school_required', 400, 'Unknown school');
      const raw = await ctx.kv.take(key(login));
      if (raw === null) throw expired();
      setCookie(reply, cookies, cookies.school, school.id, REMEMBER_SCHOOL_S);
      request.outcome = { school: school.id, picked: true };
      return reply.code(303).header('location', await startSchoolLogin(ctx, school, JSON.parse(raw) as AuthorizationRequest)).send();
    }
    if ((await ctx.kv.get(key(login))) === null) throw expired();
    return sendPicker(request, reply, ctx.registry(), login, (single(params, 'q') ?? '').slice(0, MAX_QUERY).trim());
  });
}

const expired = () => new PageError('login_expired', 400, 'No pending login for this page');

function sendPicker(request: FastifyRequest, reply: FastifyReply, registry: Registry, login: string, query: string) {
  const all = [...registry.schools.values()];
  // Few schools (a small deployment, the demo): list them all. Otherwise the pupil searches first.
  const matches = query === '' ? (all.length <= MAX_SHOWN ? all : []) : all.filter(matcher(query));
  const schools: PickerSchool[] = matches
    .map((s) => ({ id: s.id, name: s.name }))
    .sort((a, b) => a.name.localeCompare(b.name, 'nl'))
    .slice(0, MAX_SHOWN);
  const html = renderPicker({ login, query, schools, truncated: matches.length > MAX_SHOWN, language: preferredLanguage(request) });
  return reply.header('cache-control', 'no-store').type('text/html; charset=utf-8').send(html);
}

/** Case- and accent-insensitive match on the name, or a BRIN prefix ("12ab" finds 12AB and 12AB01). */
function matcher(query: string): (school: { id: string; name: string }) => boolean {
  const fold = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
  const q = fold(query);
  return (school) => fold(school.name).includes(q) || school.id.toLowerCase().startsWith(q);
}
