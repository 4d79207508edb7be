import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, postAssertion, postForm, toSchool } from '../helpers/browser.js';
import { makeWorld, REKEN_CB, TAAL_CB, type World } from '../helpers/fixture.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { TestPublisher } from '../helpers/publisher.js';

// DESIGN.md section 9 and research/reliability.md case 82: a full login's logs
// carry no student key, name, birth date, assertion, code, state, nonce,
// verifier or token, also on the error paths.

describe('log canaries', () => {
  let world: World;
  let gateway: TestGateway;
  let reken: TestPublisher;
  let taal: TestPublisher;

  beforeAll(async () => {
    world = await makeWorld();
    gateway = await startGateway({ seed: world.seed });
    reken = await TestPublisher.create(gateway.url, 'rekenapp', REKEN_CB, { key: world.rekenKey });
    taal = await TestPublisher.create(gateway.url, 'taalapp', TAAL_CB, { secret: world.taalSecret });
  });
  afterAll(async () => gateway?.close());

  it('no secret or pupil value of a full login, a replay and refusals appears in any log line', async () => {
    const pupil = {
      sub: 'CANARYKEY-7h3k9',
      given_name: 'Canarygiven',
      family_name: 'Canaryfamily',
      tussenvoegsel: 'canaryvan',
      birthdate: '2013-11-29',
      groups: [{ key: 'canary-group-key', name: 'Canary Group Name', grade: 7 }],
    };
    const canaries: string[] = [pupil.sub, pupil.given_name, pupil.family_name, pupil.tussenvoegsel, pupil.birthdate, 'canary-group-key', 'Canary Group Name', world.taalSecret];

    for (const publisher of [reken, taal]) {
      const started = await publisher.startLogin({ school_hint: '12AB', state: 'CANARYSTATE-1', nonce: 'CANARYNONCE-1' });
      const step = await toSchool(gateway, world.regenboog, started.url);
      const assertion = await world.regenboog.assertion(pupil, { nonce: step.nonce, aud: gateway.url });
      const res = await postAssertion(step.returnTo, assertion);
      expect(res.status).toBe(303);
      const callback = new URL(res.headers.get('location')!);
      const code = callback.searchParams.get('code')!;
      const tokens = await publisher.finishLogin(callback, { ...started, state: 'CANARYSTATE-1', nonce: 'CANARYNONCE-1' });
      const info = await get(`${gateway.url}/userinfo`, { authorization: `Bearer ${tokens.access_token}` });
      expect(info.status).toBe(200);
      // Error paths: replayed assertion, replayed code, bad bearer token.
      expect((await postAssertion(step.returnTo, assertion)).status).toBe(400);
      const replay = await postForm(`${gateway.url}/token`, { grant_type: 'authorization_code', code, redirect_uri: publisher.redirectUri, code_verifier: started.verifier }, {
        authorization: `Basic ${Buffer.from(`taalapp:${world.taalSecret}`).toString('base64')}`,
      });
      expect(replay.status).toBe(400);
      expect((await get(`${gateway.url}/userinfo`, { authorization: `Bearer ${tokens.access_token}x` })).status).toBe(401);
      canaries.push(assertion, step.nonce, code, started.verifier, tokens.access_token, tokens.id_token!, (tokens.claims()!).sub, 'CANARYSTATE-1', 'CANARYNONCE-1');
    }

    const logs = gateway.logs.join('\n');
    expect(gateway.logs.length).toBeGreaterThan(10);
    for (const canary of canaries) expect(logs, `log contains ${canary.slice(0, 24)}`).not.toContain(canary);
  });
});
