import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JWK } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { listKeys, retireKeys, rotateKeys } from '../../src/cli/keys.js';
import { JWKS_MAX_AGE_S } from '../../src/crypto/signing-key-file.js';
import { loadOrCreateSigningKeys, type SigningKeyRing } from '../../src/crypto/signing-keys.js';
import { TestClock } from '../helpers/clock.js';
import { makeWorld, PUPIL, TAAL_CB, type World } from '../helpers/fixture.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { TestPublisher } from '../helpers/publisher.js';
import { basicAuth, codeForm, expectTokens, issueCode, postToken } from '../helpers/token-userinfo-requests.js';

// Signing-key rotation without breaking a relying party. The gateway reads its
// keys from a DATA_DIR key file and re-checks it every 20 ms here; the test
// drives the rotation with the functions behind `keys rotate|retire`, moves the
// gateway's clock through the pre-publication interval in steps, and logs in
// at every step while fetching /jwks.json like a relying party would. Every
// id_token must verify against every JWKS fetched from JWKS_MAX_AGE_S before
// it was issued (what a relying party may still hold in its cache) until it
// expires. An immediate rotation (no pre-publication) is the control: the same
// check must then find tokens that an RP with a cached JWKS cannot verify.

const PREPUBLISH_S = 900;
const STEP_MS = 60_000;

interface Snapshot { at: number; keys: JWK[] }
interface Issued { at: number; kid: string; idToken: string }

describe('signing-key rotation across logins', () => {
  let world: World;
  let gateway: TestGateway | undefined;
  let ring: SigningKeyRing | undefined;

  afterEach(async () => {
    await gateway?.close();
    ring?.close();
  });

  async function setUp() {
    world = await makeWorld();
    const clock = new TestClock();
    const dataDir = join(await mkdtemp(join(tmpdir(), 'pgw-keys-')), 'data');
    ring = await loadOrCreateSigningKeys(dataDir, { clock, reloadIntervalMs: 20 });
    gateway = await startGateway({ seed: world.seed, clock, signing: ring });
    const taal = await TestPublisher.create(gateway.url, 'taalapp', TAAL_CB, { secret: world.taalSecret });
    const gw = gateway;
    const snapshots: Snapshot[] = [];
    const issued: Issued[] = [];
    const fetchJwks = async () => {
      const res = await fetch(`${gw.url}/jwks.json`);
      expect(res.headers.get('cache-control')).toBe(`public, max-age=${JWKS_MAX_AGE_S}`);
      const { keys } = (await res.json()) as { keys: JWK[] };
      snapshots.push({ at: clock.now(), keys });
      return keys;
    };
    /** A relying party's view: fetch the JWKS, then one whole login with raw HTTP at the gateway's clock. */
    const login = async () => {
      await fetchJwks();
      const code = await issueCode(gw, world.regenboog, taal, PUPIL, clock.now());
      const { idToken } = expectTokens(await postToken(`${gw.url}/token`, codeForm(code), { authorization: basicAuth('taalapp', world.taalSecret) }));
      issued.push({ at: clock.now(), kid: decodeProtectedHeader(idToken).kid!, idToken });
    };
    /** Log in repeatedly (real time passes, the clock stands) until the published JWKS satisfies `done`. */
    const loginUntil = async (done: (kids: string[]) => boolean) => {
      const deadline = Date.now() + 10_000;
      while (!done((await fetchJwks()).map((k) => k.kid!))) {
        if (Date.now() > deadline) throw new Error('the gateway did not pick up the key file');
        await login();
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    /** Every id_token against every JWKS fetched within the cache lifetime before it, up to its expiry. */
    const unverifiable = async () => {
      const failures: string[] = [];
      for (const token of issued) {
        const usable = snapshots.filter((s) => s.at >= token.at - JWKS_MAX_AGE_S * 1000 && s.at <= token.at + 300_000);
        for (const snapshot of usable) {
          try {
            await jwtVerify(token.idToken, createLocalJWKSet({ keys: snapshot.keys }), {
              issuer: gw.url,
              audience: 'taalapp',
              currentDate: new Date(token.at),
            });
          } catch {
            failures.push(`token of ${new Date(token.at).toISOString()} (kid ${token.kid}) against the JWKS of ${new Date(snapshot.at).toISOString()}`);
          }
        }
      }
      return failures;
    };
    return { clock, dataDir, snapshots, issued, login, loginUntil, unverifiable };
  }

  it('publishes the next key before it signs and the previous key after: every id_token verifies against every JWKS an RP may hold', async () => {
    const { clock, dataDir, issued, login, loginUntil, unverifiable } = await setUp();
    const [first] = await listKeys(dataDir, clock.now());
    await login();
    await login();

    // keys rotate: the next key is published at once and signs PREPUBLISH_S later.
    const next = await rotateKeys(dataDir, { now: clock.now(), prepublishS: PREPUBLISH_S });
    expect(next.state).toBe('next');
    await loginUntil((kids) => kids.includes(next.kid));
    expect((await listKeys(dataDir, clock.now())).map((k) => k.state)).toEqual(['current', 'next']);

    // Through the pre-publication interval and past the activation, a minute at a time.
    const activation = Date.parse(next.activatesAt);
    while (clock.now() < activation + 5 * STEP_MS) {
      clock.advance(STEP_MS);
      await login();
    }
    // Too early to retire: the previous key may still verify live tokens.
    await expect(retireKeys(dataDir, { now: clock.now(), retireAfterS: PREPUBLISH_S })).rejects.toThrow(/still verify live tokens/);
    while (clock.now() < activation + PREPUBLISH_S * 1000) {
      clock.advance(STEP_MS);
      await login();
    }
    expect(await retireKeys(dataDir, { now: clock.now(), retireAfterS: PREPUBLISH_S })).toEqual([first!.kid]);
    await loginUntil((kids) => !kids.includes(first!.kid));
    await login();

    // The kid changed exactly once, at the activation moment.
    const kids = issued.map((t) => t.kid);
    expect(new Set(kids)).toEqual(new Set([first!.kid, next.kid]));
    expect(kids.lastIndexOf(first!.kid)).toBeLessThan(kids.indexOf(next.kid));
    expect(issued.filter((t) => t.kid === next.kid).every((t) => t.at >= activation)).toBe(true);
    expect(issued.filter((t) => t.kid === first!.kid).every((t) => t.at < activation)).toBe(true);
    expect(await unverifiable()).toEqual([]);
  });

  it('control: a key that signs without pre-publication breaks RPs holding a cached JWKS, and the same check says so', async () => {
    const { clock, dataDir, issued, login, loginUntil, unverifiable } = await setUp();
    await login();
    const immediate = await rotateKeys(dataDir, { now: clock.now(), prepublishS: PREPUBLISH_S, immediate: true });
    expect(immediate.state).toBe('current');
    await loginUntil((kids) => kids[0] === immediate.kid);
    await login();
    expect(issued.at(-1)!.kid).toBe(immediate.kid);
    expect(await unverifiable()).not.toEqual([]);
  });
});
