import { randomBytes } from 'node:crypto';
import { createLocalJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClock } from '../helpers/clock.js';
import { makeWorld, PUPIL, REKEN_CB, TAAL_CB, type World } from '../helpers/fixture.js';
import { startGateway, TEST_SCRYPT, type TestGateway } from '../helpers/gateway.js';
import { TestPublisher } from '../helpers/publisher.js';
import { referencePseudonyms } from '../helpers/reference-pseudonym.js';
import { basicAuth, call, clientAssertion, codeForm, expectTokens, issueCode, JWT_BEARER, postToken } from '../helpers/token-userinfo-requests.js';

// Pseudonym-key rotation per supplier (docs/pseudonyms.md, docs/key-rotation.md):
// uitgever-a moves from key version 1 to 2 with a window until rotationUntil.
// sub, previous_sub and the group pseudonyms are compared with an independent
// implementation of the derivation (test/helpers/reference-pseudonym.ts, on
// @noble/hashes); the gateway's clock is moved past rotationUntil.

const WINDOW_MS = 60_000;

describe('pseudonym key rotation of one supplier', () => {
  const master = randomBytes(32);
  const clock = new TestClock();
  let world: World;
  let gateway: TestGateway;
  let reken: TestPublisher;
  let taal: TestPublisher;
  const expected = (supplier: string, version: number) =>
    referencePseudonyms({ master, school: '12AB', studentKey: PUPIL.sub, supplier, version, group: '8a', ...TEST_SCRYPT });

  beforeAll(async () => {
    world = await makeWorld();
    const rotationUntil = new Date(clock.now() + WINDOW_MS).toISOString();
    const seed = {
      ...world.seed,
      suppliers: [
        { id: 'uitgever-a', name: 'Uitgever A', keyVersion: 2, previousKeyVersion: 1, rotationUntil },
        { id: 'uitgever-b', name: 'Uitgever B', keyVersion: 1 },
      ],
    };
    gateway = await startGateway({ seed, clock, masterKey: master });
    reken = await TestPublisher.create(gateway.url, 'rekenapp', REKEN_CB, { key: world.rekenKey });
    taal = await TestPublisher.create(gateway.url, 'taalapp', TAAL_CB, { secret: world.taalSecret });
  });
  afterAll(async () => {
    await gateway?.close();
  });

  /** A whole login at the gateway's clock (raw HTTP, so the clock may run ahead of real time). */
  async function login(publisher: TestPublisher): Promise<{ claims: JWTPayload; accessToken: string }> {
    const code = await issueCode(gateway, world.regenboog, publisher, PUPIL, clock.now());
    const auth =
      publisher === reken
        ? { client_assertion_type: JWT_BEARER, client_assertion: await clientAssertion(world.rekenKey, 'rekenapp', { aud: gateway.url, now: clock.now() }) }
        : undefined;
    const res = await postToken(`${gateway.url}/token`, { ...codeForm(code), ...auth }, auth ? {} : { authorization: basicAuth('taalapp', world.taalSecret) });
    const { idToken, accessToken } = expectTokens(res);
    const { payload } = await jwtVerify(idToken, createLocalJWKSet(gateway.signing.jwks), {
      issuer: gateway.url,
      audience: publisher.clientId,
      currentDate: new Date(clock.now()),
    });
    return { claims: payload, accessToken };
  }
  const userinfo = async (accessToken: string) => (await call(`${gateway.url}/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } })).json;

  let beforeEnd: { claims: JWTPayload; accessToken: string };

  it('during the window: sub under the new version, previous_sub under the old one, exactly per the derivation, in id_token and userinfo', async () => {
    const v2 = expected('uitgever-a', 2);
    const v1 = expected('uitgever-a', 1);
    expect(v2.sub).not.toBe(v1.sub);
    beforeEnd = await login(reken);
    expect(beforeEnd.claims.sub).toBe(v2.sub);
    expect(beforeEnd.claims.previous_sub).toBe(v1.sub);
    // Group pseudonyms use the current version only (docs/pseudonyms.md, step 3): no previous group pseudonyms.
    expect(beforeEnd.claims.groups).toEqual([v2.group]);
    expect(Object.keys(beforeEnd.claims).filter((k) => k.startsWith('previous'))).toEqual(['previous_sub']);
    expect(await userinfo(beforeEnd.accessToken)).toEqual({ sub: v2.sub, previous_sub: v1.sub, school: '12AB', grade: 8, groups: [v2.group], group_names: ['Groep 8A'] });
  });

  it('another supplier without a rotation: its own version-1 pseudonym and no previous_sub', async () => {
    const { claims, accessToken } = await login(taal);
    expect(claims.sub).toBe(expected('uitgever-b', 1).sub);
    expect(claims).not.toHaveProperty('previous_sub');
    expect(await userinfo(accessToken)).not.toHaveProperty('previous_sub');
  });

  it('after rotationUntil: the same sub, no previous_sub in the id_token or userinfo (also for a token issued inside the window)', async () => {
    clock.advance(WINDOW_MS + 1_000);
    const after = await login(reken);
    expect(after.claims.sub).toBe(expected('uitgever-a', 2).sub);
    expect(after.claims).not.toHaveProperty('previous_sub');
    expect(after.claims.groups).toEqual([expected('uitgever-a', 2).group]);
    expect(await userinfo(after.accessToken)).not.toHaveProperty('previous_sub');
    // The access token from inside the window is still valid (300 s), but the window is over.
    expect(await userinfo(beforeEnd.accessToken)).toEqual({ sub: expected('uitgever-a', 2).sub, school: '12AB', grade: 8, groups: [expected('uitgever-a', 2).group], group_names: ['Groep 8A'] });
  });
});
