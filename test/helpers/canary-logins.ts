import { expect } from 'vitest';
import { get, postAssertion, postForm, toSchool, type GatewayView } from './browser.js';
import type { TestPublisher } from './publisher.js';
import type { PupilClaims, TestSchool } from './test-school.js';

/** A pupil whose every value is easy to find if it leaks. */
export const CANARY_PUPIL = {
  sub: 'CANARYKEY-7h3k9',
  given_name: 'Canarygiven',
  family_name: 'Canaryfamily',
  tussenvoegsel: 'canaryvan',
  birthdate: '2013-11-29',
  groups: [{ key: 'canary-group-key', name: 'Canary Group Name', grade: 7 }],
};

const { groups: canaryGroups, ...canaryScalars } = CANARY_PUPIL;
export const CANARY_PUPIL_VALUES = [...Object.values(canaryScalars), ...canaryGroups.flatMap((g) => [g.key, g.name])];

/**
 * Per publisher: a full login with canary state and nonce, userinfo, then the
 * error paths (a replayed assertion, a replayed code, a bad bearer token).
 * Returns every secret or client-supplied value that travelled, for tests
 * that grep what the gateway exposes (logs, metrics) for them.
 */
export async function canaryLogins(
  gateway: GatewayView,
  school: TestSchool,
  publishers: TestPublisher[],
  pupil: PupilClaims,
  marks: { state: string; nonce: string; basicAuth: string },
): Promise<string[]> {
  const seen: string[] = [marks.state, marks.nonce];
  for (const publisher of publishers) {
    const started = await publisher.startLogin({ school_hint: school.id, state: marks.state, nonce: marks.nonce });
    const step = await toSchool(gateway, school, started.url);
    const assertion = await school.assertion(pupil, { nonce: step.nonce, aud: gateway.url });
    const res = await postAssertion(step, assertion);
    expect(res.status).toBe(303);
    const callback = new URL(res.headers.get('location')!);
    const code = callback.searchParams.get('code')!;
    const tokens = await publisher.finishLogin(callback, { ...started, state: marks.state, nonce: marks.nonce });
    expect((await get(`${gateway.url}/userinfo`, { authorization: `Bearer ${tokens.access_token}` })).status).toBe(200);
    expect((await postAssertion(step, assertion)).status).toBe(400);
    const replay = await postForm(`${gateway.url}/token`, { grant_type: 'authorization_code', code, redirect_uri: publisher.redirectUri, code_verifier: started.verifier }, {
      authorization: marks.basicAuth,
    });
    expect(replay.status).toBe(400);
    expect((await get(`${gateway.url}/userinfo`, { authorization: `Bearer ${tokens.access_token}x` })).status).toBe(401);
    seen.push(assertion, step.nonce, code, started.verifier, tokens.access_token, tokens.id_token!, tokens.claims()!.sub);
  }
  return seen;
}
