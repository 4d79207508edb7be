import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { schoolDay } from '../../src/release/licence.js';
import { fullLogin, postAssertion, toSchool } from '../helpers/browser.js';
import { makeWorld, PUPIL, REKEN_CB, type World } from '../helpers/fixture.js';
import { startGateway, stateKeys, TEST_SCRYPT, type TestGateway } from '../helpers/gateway.js';
import { TestPublisher } from '../helpers/publisher.js';
import { referencePseudonyms } from '../helpers/reference-pseudonym.js';

// docs/privacy.md on the login path: every release is handed to the
// ledger as (student ref, school, client, supplier, claim names, day) before
// the code exists, and a release the ledger refuses does not happen.

describe('the login records its disclosure', () => {
  let world: World;
  let gateway: TestGateway;
  let reken: TestPublisher;
  const master = randomBytes(32);

  beforeAll(async () => {
    world = await makeWorld();
    gateway = await startGateway({ seed: world.seed, masterKey: master });
    reken = await TestPublisher.create(gateway.url, 'rekenapp', REKEN_CB, { key: world.rekenKey });
  });
  afterAll(() => gateway?.close());
  beforeEach(() => {
    gateway.ledger!.failing = false;
    gateway.ledger!.recorded.length = 0;
  });

  it('records the student ref (docs/pseudonyms.md), client, supplier, exactly the released claim names and the day', async () => {
    const { claims } = await fullLogin(gateway, world.regenboog, reken, PUPIL);
    const ref = referencePseudonyms({ master, school: '12AB', studentKey: PUPIL.sub, supplier: 'uitgever-a', version: 1, group: '8a', ...TEST_SCRYPT }).ref;
    expect(gateway.ledger!.recorded).toEqual([
      { school: '12AB', studentRef: ref, client: 'rekenapp', supplier: 'uitgever-a', claims: ['school', 'grade', 'groups', 'group_names'], day: schoolDay(Date.now()) },
    ]);
    expect(Object.keys(claims)).toEqual(expect.arrayContaining(['school', 'grade', 'groups', 'group_names']));
    // Never the key or an attribute value.
    expect(JSON.stringify(gateway.ledger!.recorded)).not.toContain(PUPIL.sub);
    expect(JSON.stringify(gateway.ledger!.recorded)).not.toContain(PUPIL.given_name);
  });

  it('fails closed when the disclosure cannot be recorded: a 503 page, no code, nothing for the publisher', async () => {
    const started = await reken.startLogin({ school_hint: world.regenboog.id });
    const step = await toSchool(gateway, world.regenboog, started.url);
    const before = stateKeys(gateway.kv).filter((k) => k.startsWith('code:'));
    gateway.ledger!.failing = true;
    const res = await postAssertion(step, await world.regenboog.assertion(PUPIL, { nonce: step.nonce, aud: gateway.url }));
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(res.headers.get('location')).toBeNull();
    const page = await res.text();
    expect(page).toContain('<code>temporarily_unavailable</code>');
    expect(page).not.toContain('code=');
    expect(stateKeys(gateway.kv).filter((k) => k.startsWith('code:'))).toEqual(before);
    expect(gateway.ledger!.recorded).toEqual([]);
  });
});
