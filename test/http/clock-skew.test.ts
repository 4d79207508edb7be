import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pageOf, refusedPage } from '../helpers/assertion-tests-util.js';
import { postAssertion, toSchool } from '../helpers/browser.js';
import { makeWorld, PUPIL, type World } from '../helpers/fixture.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { TestPublisher } from '../helpers/publisher.js';
import { clientAssertion, codeForm, expectTokenError, expectTokens, issueCode, JWT_BEARER, postToken } from '../helpers/token-userinfo-requests.js';

// The broker's clock 30 s behind a school's and a publisher's: what they sign
// "now" is 30 s in the gateway's future. Inbound JWTs get 30 s of skew
// (src/crypto/verify-jws.ts CLOCK_SKEW_S): 30 s ahead passes, 31 s does not.

let world: World;
/** The gateway's clock, held still on a whole second 30 s behind the real time, so the boundaries are exact. */
const clock = { t: Math.floor((Date.now() - 30_000) / 1000) * 1000, now(): number { return this.t; } };
let gateway: TestGateway;
let reken: TestPublisher;

beforeAll(async () => {
  world = await makeWorld();
  gateway = await startGateway({ seed: world.seed, clock });
  reken = await TestPublisher.create(gateway.url, 'rekenapp', 'https://rekenapp.example/cb', { key: world.rekenKey });
});
afterAll(async () => {
  await gateway?.close();
});

/** The school's clock: the gateway's plus `aheadS` seconds. */
async function schoolAnswers(aheadS: number) {
  const started = await reken.startLogin({ school_hint: '12AB' });
  const step = await toSchool(gateway, world.regenboog, started.url);
  const schoolNow = clock.now() + aheadS * 1000;
  return postAssertion(step, await world.regenboog.assertion(PUPIL, { nonce: step.nonce, aud: gateway.url, now: schoolNow }));
}

describe('a school whose clock is ahead of the broker\'s', () => {
  it('30 s ahead (iat 30 s in the gateway\'s future): accepted', async () => {
    const res = await schoolAnswers(30);
    expect(res.status).toBe(303);
    expect(new URL(res.headers.get('location')!).searchParams.get('code')).toBeTruthy();
  });

  it('31 s ahead: refused as not yet valid', async () => {
    expect(await pageOf(await schoolAnswers(31))).toEqual(refusedPage('assertion_not_yet_valid'));
  });
});

describe('a publisher whose clock is ahead of the broker\'s', () => {
  async function tokenRequest(aheadS: number) {
    const issued = await issueCode(gateway, world.regenboog, reken, PUPIL, clock.now());
    const assertion = await clientAssertion(world.rekenKey, 'rekenapp', { aud: gateway.url, now: clock.now() + aheadS * 1000 });
    return postToken(`${gateway.url}/token`, { ...codeForm(issued), client_assertion_type: JWT_BEARER, client_assertion: assertion });
  }

  it('a client assertion issued 30 s in the gateway\'s future: accepted', async () => {
    expectTokens(await tokenRequest(30));
  });

  it('31 s: 401 invalid_client, naming the skew', async () => {
    const res = await tokenRequest(31);
    expectTokenError(res, 401, 'invalid_client');
    expect(res.json?.error_description).toContain('30 s');
  });
});
