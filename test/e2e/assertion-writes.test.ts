import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { UnavailableError } from '../../src/errors.js';
import type { SingleUseStep, StepResult } from '../../src/store/kv.js';
import { MemoryKv } from '../../src/store/memory-kv.js';
import { postAssertion, toSchool } from '../helpers/browser.js';
import { makeWorld, PUPIL, REKEN_CB, type World } from '../helpers/fixture.js';
import { startGateway, stateKeys, type TestGateway } from '../helpers/gateway.js';
import { TestPublisher } from '../helpers/publisher.js';

// POST /school/assertion writes the code and the SSO session together, in the
// step that takes the pending login (one round trip), once the release is
// approved. A step writing either that fails fails the login: a 503 page, no
// code for the publisher and no session cookie.

/** A KV whose writes under one key prefix fail, as a Redis command (or script) that times out does. */
class PartlyFailingKv extends MemoryKv {
  failing: string | undefined;

  private failsOn(key: string): boolean {
    return this.failing !== undefined && key.startsWith(this.failing);
  }

  override async set(key: string, value: string, ttlMs: number): Promise<void> {
    if (this.failsOn(key)) throw new UnavailableError(new Error('command timed out'));
    return super.set(key, value, ttlMs);
  }

  override async step(step: SingleUseStep): Promise<StepResult> {
    if (step.put.some((put) => this.failsOn(put.key))) throw new UnavailableError(new Error('command timed out'));
    return super.step(step);
  }
}

describe('the code and the session are written together', () => {
  let world: World;
  let gateway: TestGateway;
  let reken: TestPublisher;
  const kv = new PartlyFailingKv();

  beforeAll(async () => {
    world = await makeWorld();
    gateway = await startGateway({ seed: world.seed, kv });
    reken = await TestPublisher.create(gateway.url, 'rekenapp', REKEN_CB, { key: world.rekenKey });
  });
  afterAll(() => gateway?.close());
  beforeEach(() => {
    kv.failing = undefined;
  });

  async function loginWithFailing(prefix: string) {
    const started = await reken.startLogin({ school_hint: world.regenboog.id });
    const step = await toSchool(gateway, world.regenboog, started.url);
    kv.failing = prefix;
    return postAssertion(step, await world.regenboog.assertion(PUPIL, { nonce: step.nonce, aud: gateway.url }));
  }

  for (const [what, prefix] of [['code', 'code:'], ['session', 'sess:']] as const) {
    it(`a failed ${what} write: 503 page, no code handed out, no session cookie`, async () => {
      const codesBefore = stateKeys(kv).filter((k) => k.startsWith('code:'));
      const res = await loginWithFailing(prefix);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(res.headers.get('location')).toBeNull();
      expect(res.headers.get('set-cookie') ?? '').not.toContain('pgw_session');
      const page = await res.text();
      expect(page).toContain('<code>temporarily_unavailable</code>');
      expect(page).not.toContain('code=');
      if (prefix === 'code:') expect(stateKeys(kv).filter((k) => k.startsWith('code:'))).toEqual(codesBefore);
    });
  }

  it('with both writes through, the browser gets the code and the session cookie', async () => {
    const res = await loginWithFailing('nothing:');
    expect(res.status).toBe(303);
    expect(new URL(res.headers.get('location')!).searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(res.headers.get('set-cookie')).toContain('pgw_session=');
  });
});
