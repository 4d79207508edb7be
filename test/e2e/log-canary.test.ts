import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CANARY_PUPIL, CANARY_PUPIL_VALUES, canaryLogins } from '../helpers/canary-logins.js';
import { makeWorld, REKEN_CB, TAAL_CB, type World } from '../helpers/fixture.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { TestPublisher } from '../helpers/publisher.js';

// docs/failure-behaviour.md: a full login's logs
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
    const pupil = CANARY_PUPIL;
    const canaries: string[] = [...CANARY_PUPIL_VALUES, world.taalSecret];

    canaries.push(...(await canaryLogins(gateway, world.regenboog, [reken, taal], pupil, {
      state: 'CANARYSTATE-1', nonce: 'CANARYNONCE-1', basicAuth: `Basic ${Buffer.from(`taalapp:${world.taalSecret}`).toString('base64')}`,
    })));

    const logs = gateway.logs.join('\n');
    expect(gateway.logs.length).toBeGreaterThan(10);
    for (const canary of canaries) expect(logs, `log contains ${canary.slice(0, 24)}`).not.toContain(canary);
  });
});
