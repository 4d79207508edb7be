import type { TestGateway } from './gateway.js';
import type { TestPublisher } from './publisher.js';
import type { PupilClaims, TestSchool } from './test-school.js';

/** GET without following redirects. */
export const get = (url: string | URL, headers: Record<string, string> = {}) => fetch(url, { redirect: 'manual', headers });

/** POST an HTML form without following redirects. */
export const postForm = (url: string | URL, form: Record<string, string>, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });

/** What a login needs of a gateway: its URL and its published keys (also a gateway in a child process). */
export type GatewayView = Pick<TestGateway, 'url'> & { readonly signing: Pick<TestGateway['signing'], 'jwks'> };

export interface SchoolStep {
  /** The gateway's nonce from the signed login request. */
  nonce: string;
  returnTo: string;
  /** The Cookie header of the browser that started the login: its login cookie (src/login/pending.ts). */
  cookie: string;
}

/** The login cookie /authorize set, as a Cookie header ('' when it set none). */
export function loginCookieOf(res: Response): string {
  const line = res.headers.getSetCookie().find((c) => /^(__Host-)?pgw_login=/.test(c));
  return line ? line.split(';', 1)[0]! : '';
}

/** What a browser does: follow the publisher's redirect to the gateway and on to the school. */
export async function toSchool(gateway: GatewayView, school: TestSchool, authorizeUrl: URL, headers: Record<string, string> = {}): Promise<SchoolStep> {
  const res = await get(authorizeUrl, headers);
  if (res.status !== 303) throw new Error(`authorize answered ${res.status}: ${await res.text()}`);
  const { payload } = await school.readLoginRequest(res.headers.get('location')!, gateway.signing.jwks, gateway.url);
  return { nonce: payload.nonce, returnTo: payload.return_to, cookie: loginCookieOf(res) || headers.cookie || '' };
}

/** The school posts the assertion back, through the browser that started the login; returns the gateway's response. */
export const postAssertion = (step: Pick<SchoolStep, 'returnTo' | 'cookie'>, assertion: string) =>
  postForm(step.returnTo, { assertion }, step.cookie ? { cookie: step.cookie } : {});

/** A whole login: publisher -> gateway -> school -> gateway -> publisher, then the token request. */
export async function fullLogin(
  gateway: GatewayView,
  school: TestSchool,
  publisher: TestPublisher,
  pupil: PupilClaims,
  extra: Record<string, string> = { school_hint: school.id },
) {
  const started = await publisher.startLogin(extra);
  const step = await toSchool(gateway, school, started.url);
  const res = await postAssertion(step, await school.assertion(pupil, { nonce: step.nonce, aud: gateway.url }));
  if (res.status !== 303) throw new Error(`assertion answered ${res.status}: ${await res.text()}`);
  const callback = new URL(res.headers.get('location')!);
  const tokens = await publisher.finishLogin(callback, started);
  return { callback, tokens, claims: tokens.claims()!, started };
}
