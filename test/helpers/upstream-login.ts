import { expect } from 'vitest';
import type { UpstreamIdp } from '../../support/upstream-idp.js';
import { CookieJar } from './cookie-jar.js';
import type { TestPublisher } from './publisher.js';

// A browser's walk through an upstream OpenID login: publisher -> gateway
// /authorize -> the school's upstream provider (its login page, an account
// picked or the login cancelled) -> the gateway's callback.

export interface AtCallback {
  readonly jar: CookieJar;
  readonly started: Awaited<ReturnType<TestPublisher['startLogin']>>;
  /** The upstream's redirect back to the gateway (code or error, state, iss). */
  readonly callback: URL;
  /** Where /authorize sent the browser (the upstream's authorization endpoint). */
  readonly authorize: URL;
}

const next = (res: Response, base: string | URL): URL => {
  if (res.status !== 303 && res.status !== 302) throw new Error(`expected a redirect, got ${res.status}`);
  return new URL(res.headers.get('location')!, base);
};

/** Up to the upstream's redirect to the gateway's callback; `account` undefined cancels at the login page. */
export async function toCallback(publisher: TestPublisher, upstream: UpstreamIdp, schoolId: string, account: string | undefined): Promise<AtCallback> {
  const jar = new CookieJar();
  const started = await publisher.startLogin({ school_hint: schoolId });
  const authorize = next(await jar.get(started.url), started.url);
  expect(`${authorize.origin}${authorize.pathname}`).toBe(`${upstream.issuer}/auth`);
  const interaction = next(await jar.get(authorize), authorize);
  const page = await jar.get(interaction);
  expect(page.status).toBe(200);
  await page.text();
  const action = account === undefined ? `${interaction.href}/abort` : `${interaction.href}/login`;
  const resume = next(await jar.post(action, account === undefined ? {} : { account }), interaction);
  const callback = next(await jar.get(resume), resume);
  return { jar, started, callback, authorize };
}

/** The gateway's answer to the callback, in the browser that started the login. */
export const answerCallback = (at: Pick<AtCallback, 'jar' | 'callback'>, url: URL = at.callback) => at.jar.get(url);

/** A whole upstream login through to the publisher's tokens. */
export async function upstreamLogin(publisher: TestPublisher, upstream: UpstreamIdp, schoolId: string, account: string) {
  const at = await toCallback(publisher, upstream, schoolId, account);
  const res = await answerCallback(at);
  if (res.status !== 303) throw new Error(`callback answered ${res.status}: ${await res.text()}`);
  const redirect = new URL(res.headers.get('location')!);
  const tokens = await publisher.finishLogin(redirect, at.started);
  return { ...at, tokens, claims: tokens.claims()! };
}
