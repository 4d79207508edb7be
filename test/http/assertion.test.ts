import { createPublicKey, generateKeyPairSync, randomBytes, randomUUID, sign as nodeSign } from 'node:crypto';
import { newLoginId } from '../../src/login/login-id.js';
import { parkAtSchool, takeAtSchool } from '../../src/login/pending.js';
import { CompactSign, exportJWK, importJWK, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { b64u, pageOf, refusedPage, signRawEs256 } from '../helpers/assertion-tests-util.js';
import { postAssertion, postForm, toSchool, fullLogin, type SchoolStep } from '../helpers/browser.js';
import { TestClock } from '../helpers/clock.js';
import { LEES_CB, makeWorld, PUPIL, REKEN_CB, TAAL_CB, type World } from '../helpers/fixture.js';
import { startGateway, stateKeys, type TestGateway } from '../helpers/gateway.js';
import { testKey, type TestKey } from '../helpers/keys.js';
import { TestPublisher } from '../helpers/publisher.js';
import { TestSchool } from '../helpers/test-school.js';

// POST /school/assertion under bad input: every rule of docs/school-assertion.md
// (signature, algorithms, keys, claims, times, replay and binding). Every
// refusal is a page (400, or 403 for no licence), never a redirect to the
// publisher, and a refused assertion stores no code.

let world: World;
let gateway: TestGateway;
let clock: TestClock;
let lees: TestPublisher;
let reken: TestPublisher;
let taal: TestPublisher;
/** Extra schools of this file: one per signing algorithm, and one IdP registered for two schools. */
let rsa: TestSchool;
let pss: TestSchool;
let eddsa: TestSchool;
let bestuurA: TestSchool;
let bestuurB: TestSchool;
/** A key the gateway has never seen. */
let attacker: TestKey;

const BESTUUR_ISSUER = 'https://idp.bestuur.school.example';

beforeAll(async () => {
  world = await makeWorld();
  rsa = await TestSchool.create('56EF', undefined, 'RS256');
  pss = await TestSchool.create('56EF01', undefined, 'PS256');
  eddsa = await TestSchool.create('78GH', undefined, 'EdDSA');
  bestuurA = await TestSchool.create('90IJ', BESTUUR_ISSUER);
  bestuurB = await TestSchool.create('90IJ01', BESTUUR_ISSUER);
  attacker = await testKey('ES256');
  const extra = [rsa, pss, eddsa, bestuurA, bestuurB];
  clock = new TestClock();
  gateway = await startGateway({
    clock,
    seed: {
      ...world.seed,
      schools: [...world.seed.schools, ...extra.map((s) => s.registration())],
      licences: [...world.seed.licences, ...extra.map((s) => ({ school: s.id, client: 'leesapp', claims: ['grade'] }))],
    },
  });
  lees = await TestPublisher.create(gateway.url, 'leesapp', LEES_CB, { key: world.leesKey });
  reken = await TestPublisher.create(gateway.url, 'rekenapp', REKEN_CB, { key: world.rekenKey });
  taal = await TestPublisher.create(gateway.url, 'taalapp', TAAL_CB, { secret: world.taalSecret });
});

afterAll(async () => {
  await gateway?.close();
});

// ---------------------------------------------------------------------------
// helpers

const kvKeys = () => stateKeys(gateway.kv);
const codeKeys = () => kvKeys().filter((k) => k.startsWith('code:'));
const nowS = () => Math.floor(clock.now() / 1000);

/** A publisher starts a login and the browser arrives at the school: the pending login the assertion must complete. */
async function begin(school: TestSchool = world.regenboog, publisher: TestPublisher = lees): Promise<SchoolStep> {
  const started = await publisher.startLogin({ school_hint: school.id });
  return toSchool(gateway, school, started.url);
}

/** The assertion the school would genuinely send for this pending login. */
const genuine = (step: SchoolStep, school: TestSchool = world.regenboog) =>
  school.assertion(PUPIL, { nonce: step.nonce, aud: gateway.url, now: clock.now() });

type Forge = (step: SchoolStep) => Promise<string>;

/** The school's own signing, with claims and header overridden (undefined removes one). */
const signed =
  (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}, key?: TestKey, school?: TestSchool): Forge =>
  (step) =>
    (school ?? world.regenboog).assertion(PUPIL, { nonce: step.nonce, aud: gateway.url, now: clock.now(), claims, header, ...(key ? { key } : {}) });

/** The claims a genuine assertion of regenboog carries, for hand-built tokens. */
function claimsFor(step: SchoolStep, over: Record<string, unknown> = {}): Record<string, unknown> {
  const now = nowS();
  return {
    iss: world.regenboog.issuer, aud: gateway.url, iat: now, exp: now + 120, jti: randomUUID(),
    school: world.regenboog.id, role: 'student', sub: PUPIL.sub, nonce: step.nonce, ...over,
  };
}

const headerFor = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  alg: 'ES256', kid: world.regenboog.key.kid, typ: 'school-assertion+jwt', ...over,
});

/** Hand-built header.payload.signature from JSON texts, signed with regenboog's key over exactly these bytes. */
const rawSigned = (header: (step: SchoolStep) => string | Uint8Array, payload: (step: SchoolStep) => string | Uint8Array): Forge =>
  (step) => signRawEs256(world.regenboog.key, header(step), payload(step));

/** Hand-built token (regenboog's header with `over`) with a fixed signature segment, never a valid one. */
const unsigned = (over: Record<string, unknown>, signature = b64u('not a signature')): Forge =>
  (step) => Promise.resolve(`${b64u(JSON.stringify(headerFor(over)))}.${b64u(JSON.stringify(claimsFor(step)))}.${signature}`);

/** A genuine token changed after signing; `change` gets the token and its three segments. */
const mangled = (change: (segments: string[], token: string) => string): Forge => async (step) => {
  const token = await genuine(step);
  return change(token.split('.'), token);
};

const jsonOf = (segment: string | undefined) => JSON.parse(Buffer.from(segment ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;

/** JWS with a valid signature over a payload given as raw bytes (jose's CompactSign signs them as they are). */
const compactSigned = (payload: (step: SchoolStep) => string | Uint8Array, header: Record<string, unknown> = {}): Forge =>
  async (step) => {
    const p = payload(step);
    return new CompactSign(typeof p === 'string' ? new TextEncoder().encode(p) : p)
      .setProtectedHeader(headerFor(header) as { alg: string })
      .sign(world.regenboog.key.privateKey);
  };

interface RefusalCase {
  name: string;
  forge: Forge;
  code: string;
  /** The school whose pending login the assertion is posted for (default regenboog). */
  school?: TestSchool;
}

/**
 * The shape of every refusal at the verification step: a 400 page with the
 * code, no Location, no KV key written at all; and the pending login is not
 * burned: the school's genuine assertion still completes it afterwards.
 */
async function expectRefusedAtVerification({ forge, code, school = world.regenboog }: RefusalCase): Promise<void> {
  const step = await begin(school);
  const token = await forge(step);
  const before = kvKeys();
  expect(await pageOf(await postAssertion(step, token))).toEqual(refusedPage(code));
  expect(kvKeys()).toEqual(before);
  const res = await postAssertion(step, await genuine(step, school));
  expect(res.status).toBe(303);
  expect(new URL(res.headers.get('location')!).searchParams.get('code')).toBeTruthy();
}

const runCases = (cases: RefusalCase[]) => it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => expectRefusedAtVerification(c));

// ---------------------------------------------------------------------------

describe('the test set-up itself', () => {
  it('logs in with the genuine assertion (so every refusal below is the mutation, not the set-up)', async () => {
    const step = await begin();
    const res = await postAssertion(step, await genuine(step));
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(LEES_CB);
    expect(location.searchParams.get('iss')).toBe(gateway.url);
  });
});

describe('case 15: alg none in every spelling', () => {
  runCases([
    { name: 'alg none with a signature segment', forge: unsigned({ alg: 'none' }), code: 'assertion_alg_not_allowed' },
    { name: 'alg None', forge: unsigned({ alg: 'None' }), code: 'assertion_alg_not_allowed' },
    { name: 'alg NONE', forge: unsigned({ alg: 'NONE' }), code: 'assertion_alg_not_allowed' },
    { name: 'alg nOnE', forge: unsigned({ alg: 'nOnE' }), code: 'assertion_alg_not_allowed' },
    { name: 'alg empty string', forge: unsigned({ alg: '' }), code: 'assertion_alg_not_allowed' },
    { name: 'alg missing', forge: unsigned({ alg: undefined }), code: 'assertion_alg_not_allowed' },
    { name: 'alg null', forge: unsigned({ alg: null }), code: 'assertion_alg_not_allowed' },
    { name: 'alg as an array ["ES256"]', forge: unsigned({ alg: ['ES256'] }), code: 'assertion_alg_not_allowed' },
    {
      name: 'alg none signed over valid header bytes',
      forge: rawSigned(() => JSON.stringify(headerFor({ alg: 'none' })), (s) => JSON.stringify(claimsFor(s))),
      code: 'assertion_alg_not_allowed',
    },
    // An unsecured JWS has an empty third segment (RFC 7515 appendix A.5): malformed before anything else.
    { name: 'alg none with an empty signature (unsecured JWS)', forge: unsigned({ alg: 'none' }, ''), code: 'assertion_malformed' },
  ]);
});

describe('cases 16-17: HMAC and algorithms outside the allowlist or the registered key', () => {
  const hs = (alg: string, secret: () => Uint8Array, school?: () => TestSchool): Forge => (step) => {
    const s = school?.() ?? world.regenboog;
    return new SignJWT(claimsFor(step, { iss: s.issuer, school: s.id }))
      .setProtectedHeader(headerFor({ alg, kid: s.key.kid }) as { alg: string })
      .sign(secret());
  };
  const pem = (jwk: JWK) => new TextEncoder().encode(createPublicKey({ key: jwk as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string);
  const text = (s: string) => new TextEncoder().encode(s);

  it.each([
    ['HS256 keyed with the RSA school key as SPKI PEM (CVE-2015-9235)', () => hs('HS256', () => pem(rsa.key.publicJwk), () => rsa), () => rsa],
    ['HS256 keyed with the EC school key as SPKI PEM', () => hs('HS256', () => pem(world.regenboog.key.publicJwk)), () => world.regenboog],
    ['HS256 keyed with the school JWK JSON', () => hs('HS256', () => text(JSON.stringify(world.regenboog.key.publicJwk))), () => world.regenboog],
    ['HS256 keyed with the school JWKS JSON', () => hs('HS256', () => text(JSON.stringify(world.regenboog.jwks))), () => world.regenboog],
    ['HS256 keyed with any secret', () => hs('HS256', () => text('any shared secret at all, 32 bytes!')), () => world.regenboog],
    ['HS384 keyed with any secret', () => hs('HS384', () => text('x'.repeat(48))), () => world.regenboog],
    ['HS512 keyed with any secret', () => hs('HS512', () => text('x'.repeat(64))), () => world.regenboog],
  ] as const)('%s: assertion_alg_not_allowed', async (name, forge, school) => {
    await expectRefusedAtVerification({ name, forge: forge(), code: 'assertion_alg_not_allowed', school: school() });
  });

  it.each(['ES384', 'ES512', 'RS384', 'RS512', 'PS384', 'PS512'])('%s with a real key of that type: assertion_alg_not_allowed', async (alg) => {
    const key = await testKey(alg, world.regenboog.key.kid);
    await expectRefusedAtVerification({ name: alg, forge: signed({}, {}, key), code: 'assertion_alg_not_allowed' });
  });

  it('PS256 signed with the school\'s own RSA key registered for RS256: refused (the key is bound to its alg)', async () => {
    const privateJwk = await exportJWK(rsa.key.privateKey);
    const asPss: TestKey = { ...rsa.key, alg: 'PS256', privateKey: (await importJWK({ ...privateJwk, alg: 'PS256' }, 'PS256')) as TestKey['privateKey'] };
    await expectRefusedAtVerification({ name: 'ps-with-rs', forge: signed({}, {}, asPss, rsa), code: 'assertion_unknown_key', school: rsa });
  });

  it('RS256 signed with the school\'s PS256 key: refused', async () => {
    const privateJwk = await exportJWK(pss.key.privateKey);
    const asRs: TestKey = { ...pss.key, alg: 'RS256', privateKey: (await importJWK({ ...privateJwk, alg: 'RS256' }, 'RS256')) as TestKey['privateKey'] };
    await expectRefusedAtVerification({ name: 'rs-with-ps', forge: signed({}, {}, asRs, pss), code: 'assertion_unknown_key', school: pss });
  });

  it('EdDSA token naming the kid of the school\'s ES256 key: refused', async () => {
    const ed = await testKey('EdDSA', world.regenboog.key.kid);
    await expectRefusedAtVerification({ name: 'ed-with-ec-kid', forge: signed({}, {}, ed), code: 'assertion_unknown_key' });
  });
});

describe('cases 18-19 and signature integrity: header key references and kid', () => {
  const withKid = (key: TestKey, kid: string): TestKey => ({ ...key, kid });
  runCases([
    { name: 'embedded jwk with the attacker key and kid', forge: (s) => signed({}, { kid: attacker.kid, jwk: attacker.publicJwk }, attacker)(s), code: 'assertion_unknown_key' },
    { name: 'embedded jwk, attacker key under the school\'s kid', forge: (s) => signed({}, { jwk: attacker.publicJwk }, withKid(attacker, world.regenboog.key.kid))(s), code: 'assertion_signature_invalid' },
    { name: 'jku to the attacker\'s host', forge: (s) => signed({}, { kid: attacker.kid, jku: 'https://evil.example/jwks.json' }, attacker)(s), code: 'assertion_unknown_key' },
    { name: 'jku, attacker key under the school\'s kid', forge: (s) => signed({}, { jku: 'https://evil.example/jwks.json' }, withKid(attacker, world.regenboog.key.kid))(s), code: 'assertion_signature_invalid' },
    { name: 'x5u to the attacker\'s host', forge: (s) => signed({}, { kid: attacker.kid, x5u: 'https://evil.example/cert.pem' }, attacker)(s), code: 'assertion_unknown_key' },
    { name: 'x5c with an attacker certificate, school kid', forge: (s) => signed({}, { x5c: ['MIIBszCCAVmgAwIBAgIUTm90QUNlcnRpZmljYXRl'] }, withKid(attacker, world.regenboog.key.kid))(s), code: 'assertion_signature_invalid' },
    { name: 'unknown kid', forge: (s) => signed({}, { kid: 'no-such-key' })(s), code: 'assertion_unknown_key' },
    { name: 'kid with ../ path traversal', forge: (s) => signed({}, { kid: '../../../../etc/passwd' })(s), code: 'assertion_unknown_key' },
    { name: 'kid with quotes and SQL', forge: (s) => signed({}, { kid: `x' OR '1'='1"; --` })(s), code: 'assertion_unknown_key' },
    { name: 'kid with a shell command', forge: (s) => signed({}, { kid: '$(touch /tmp/pwned)|id' })(s), code: 'assertion_unknown_key' },
    { name: 'kid of 1 KB', forge: (s) => signed({}, { kid: 'k'.repeat(1024) })(s), code: 'assertion_kid_invalid' },
    { name: 'kid of 129 characters', forge: (s) => signed({}, { kid: 'k'.repeat(129) })(s), code: 'assertion_kid_invalid' },
    { name: 'kid missing', forge: (s) => signed({}, { kid: undefined })(s), code: 'assertion_kid_invalid' },
    { name: 'kid empty', forge: (s) => signed({}, { kid: '' })(s), code: 'assertion_kid_invalid' },
    { name: 'kid a number', forge: (s) => signed({}, { kid: 1 })(s), code: 'assertion_kid_invalid' },
    { name: 'signed by the attacker under the school\'s kid', forge: (s) => signed({}, {}, withKid(attacker, world.regenboog.key.kid))(s), code: 'assertion_signature_invalid' },
    { name: 'payload changed after signing (claim tampering)', forge: mangled(([h, p, sig]) => `${h}.${b64u(JSON.stringify({ ...jsonOf(p), sub: 'someone-else' }))}.${sig}`), code: 'assertion_signature_invalid' },
    { name: 'header changed after signing', forge: mangled(([, p, sig]) => `${b64u(JSON.stringify(headerFor({ extra: 1 })))}.${p}.${sig}`), code: 'assertion_signature_invalid' },
    { name: 'signature of another genuine assertion', forge: async (s) => { const [h, p] = (await genuine(s)).split('.'); const [, , sig] = (await genuine(s)).split('.'); return `${h}.${p}.${sig}`; }, code: 'assertion_signature_invalid' },
    { name: 'signature r = s = 0 (CVE-2022-21449)', forge: mangled(([h, p]) => `${h}.${p}.${b64u(new Uint8Array(64))}`), code: 'assertion_signature_invalid' },
    { name: 'signature truncated', forge: mangled((_s, t) => t.slice(0, -10)), code: 'assertion_signature_invalid' },
  ]);
});

describe('case 20: crit and b64', () => {
  const claims = (s: SchoolStep) => JSON.stringify(claimsFor(s));
  runCases([
    { name: 'crit naming an unknown extension', forge: rawSigned(() => JSON.stringify(headerFor({ crit: ['urn:example:unknown'], 'urn:example:unknown': true })), claims), code: 'assertion_malformed' },
    { name: 'crit naming a member that is absent', forge: rawSigned(() => JSON.stringify(headerFor({ crit: ['urn:example:absent'] })), claims), code: 'assertion_malformed' },
    { name: 'crit empty', forge: rawSigned(() => JSON.stringify(headerFor({ crit: [] })), claims), code: 'assertion_malformed' },
    { name: 'crit naming a registered header (alg)', forge: rawSigned(() => JSON.stringify(headerFor({ crit: ['alg'] })), claims), code: 'assertion_malformed' },
    // The payload segment is the base64url text itself, so the signature is valid under both readings of b64.
    { name: 'b64 false with crit b64 (RFC 7797 unencoded payload)', forge: rawSigned(() => JSON.stringify(headerFor({ b64: false, crit: ['b64'] })), claims), code: 'assertion_malformed' },
  ]);
});

describe('case 21: explicit typing', () => {
  runCases([
    { name: 'typ missing', forge: signed({}, { typ: undefined }), code: 'assertion_wrong_type' },
    { name: 'typ JWT', forge: signed({}, { typ: 'JWT' }), code: 'assertion_wrong_type' },
    { name: 'typ at+jwt (an access token)', forge: signed({}, { typ: 'at+jwt' }), code: 'assertion_wrong_type' },
    { name: 'typ application/jwt', forge: signed({}, { typ: 'application/jwt' }), code: 'assertion_wrong_type' },
    { name: 'typ of the gateway\'s own login request', forge: signed({}, { typ: 'school-login-request+jwt' }), code: 'assertion_wrong_type' },
    { name: 'typ with trailing space', forge: signed({}, { typ: 'school-assertion+jwt ' }), code: 'assertion_wrong_type' },
    { name: 'typ with a prefix other than application/', forge: signed({}, { typ: 'text/school-assertion+jwt' }), code: 'assertion_wrong_type' },
    { name: 'typ as an array', forge: unsigned({ typ: ['school-assertion+jwt'] }), code: 'assertion_wrong_type' },
    { name: 'typ in the payload instead of the header', forge: signed({ typ: 'school-assertion+jwt' }, { typ: undefined }), code: 'assertion_wrong_type' },
  ]);

  it.each(['SCHOOL-ASSERTION+JWT', 'School-Assertion+Jwt', 'application/school-assertion+jwt', 'Application/School-Assertion+JWT'])(
    'typ %s is accepted (RFC 7515 section 4.1.9: case-insensitive, application/ optional)',
    async (typ) => {
      const step = await begin();
      const res = await postAssertion(step, await signed({}, { typ })(step));
      expect(res.status).toBe(303);
    },
  );
});

describe('case 22: issuer and school', () => {
  runCases([
    { name: 'iss of another school\'s IdP (signed by this school)', forge: signed({ iss: 'https://idp-34cd01.school.example' }), code: 'assertion_unknown_key' },
    { name: 'iss unknown', forge: signed({ iss: 'https://idp.unknown.example' }), code: 'assertion_unknown_issuer' },
    { name: 'iss with a trailing slash', forge: signed({ iss: `${'https://idp-12ab.school.example'}/` }), code: 'assertion_unknown_issuer' },
    { name: 'iss in other case', forge: signed({ iss: 'https://IDP-12AB.school.example' }), code: 'assertion_unknown_issuer' },
    { name: 'iss missing', forge: signed({ iss: undefined }), code: 'assertion_unknown_issuer' },
    { name: 'iss as an array', forge: signed({ iss: ['https://idp-12ab.school.example'] }), code: 'assertion_unknown_issuer' },
    { name: 'iss correct, school an unregistered BRIN', forge: signed({ school: '99ZZ' }), code: 'assertion_school_mismatch' },
    { name: 'iss correct, school registered under a different issuer (34CD01)', forge: signed({ school: '34CD01' }), code: 'assertion_school_mismatch' },
    { name: 'iss correct, school registered under the bestuur issuer', forge: signed({ school: '90IJ' }), code: 'assertion_school_mismatch' },
    { name: 'iss correct, school in lower case', forge: signed({ school: '12ab' }), code: 'assertion_claims_invalid' },
    { name: 'school missing', forge: signed({ school: undefined }), code: 'assertion_claims_invalid' },
  ]);

  it('an assertion by another school\'s IdP, posted for this school\'s pending login, is refused and completes nothing', async () => {
    const step = await begin(world.regenboog);
    const codesBefore = codeKeys();
    const token = await world.klimop.assertion(PUPIL, { nonce: step.nonce, aud: gateway.url, now: clock.now() });
    expect(await pageOf(await postAssertion(step, token))).toEqual(refusedPage('assertion_school_mismatch'));
    expect(codeKeys()).toEqual(codesBefore);
  });

  describe('an IdP registered for two schools, each with its own key (docs/school-assertion.md: a key registered for that school)', () => {
    it.each([
      ['90IJ', () => bestuurA],
      ['90IJ01', () => bestuurB],
    ] as const)('school %s logs in with its own key', async (_id, school) => {
      const step = await begin(school());
      const res = await postAssertion(step, await genuine(step, school()));
      expect(await pageOf(res)).toMatchObject({ status: 303 });
    });

    it.each([
      ['90IJ signed with the key of 90IJ01', () => bestuurA, () => bestuurB],
      ['90IJ01 signed with the key of 90IJ', () => bestuurB, () => bestuurA],
    ] as const)('%s: refused', async (_name, school, other) => {
      const step = await begin(school());
      const before = codeKeys();
      const token = await school().assertion(PUPIL, { nonce: step.nonce, aud: gateway.url, now: clock.now(), key: other().key });
      const page = await pageOf(await postAssertion(step, token));
      expect(page).toMatchObject({ status: 400, location: null, html: true });
      expect(page.code).toMatch(/^assertion_/);
      expect(codeKeys()).toEqual(before);
    });
  });
});

describe('case 23: audience', () => {
  runCases([
    { name: 'aud missing', forge: signed({ aud: undefined }), code: 'assertion_wrong_audience' },
    { name: 'aud another service', forge: signed({ aud: 'https://other-broker.example' }), code: 'assertion_wrong_audience' },
    { name: 'aud the school itself', forge: signed({ aud: 'https://idp-12ab.school.example' }), code: 'assertion_wrong_audience' },
    { name: 'aud with a trailing slash', forge: (s) => signed({ aud: `${gateway.url}/` })(s), code: 'assertion_wrong_audience' },
    { name: 'aud the assertion endpoint URL', forge: (s) => signed({ aud: `${gateway.url}/school/assertion` })(s), code: 'assertion_wrong_audience' },
    { name: 'aud an array of only the gateway', forge: (s) => signed({ aud: [gateway.url] })(s), code: 'assertion_wrong_audience' },
    { name: 'aud an array containing the gateway and another', forge: (s) => signed({ aud: [gateway.url, 'https://other.example'] })(s), code: 'assertion_wrong_audience' },
  ]);
});

describe('case 24: time claims (30 s skew, lifetime at most 300 s)', () => {
  const at = (iatOffset: number, expOffset: number): Forge => (s) => signed({ iat: nowS() + iatOffset, exp: nowS() + expOffset })(s);
  runCases([
    { name: 'expired 40 s ago (beyond the skew)', forge: at(-160, -40), code: 'assertion_expired' },
    { name: 'expired an hour ago', forge: at(-3700, -3600), code: 'assertion_expired' },
    { name: 'iat 61 s in the future', forge: at(61, 180), code: 'assertion_not_yet_valid' },
    { name: 'iat an hour in the future', forge: at(3600, 3700), code: 'assertion_not_yet_valid' },
    { name: 'nbf 61 s in the future', forge: (s) => signed({ nbf: nowS() + 61 })(s), code: 'assertion_not_yet_valid' },
    { name: 'exp - iat = 301 s', forge: at(0, 301), code: 'assertion_lifetime_too_long' },
    { name: 'exp - iat = one day', forge: at(-10, 86_390), code: 'assertion_lifetime_too_long' },
    { name: 'exp equal to iat', forge: at(5, 5), code: 'assertion_lifetime_too_long' },
    { name: 'exp before iat', forge: at(20, 10), code: 'assertion_lifetime_too_long' },
    { name: 'exp as a string', forge: (s) => signed({ exp: String(nowS() + 120) })(s), code: 'assertion_claims_invalid' },
    { name: 'iat as a string', forge: (s) => signed({ iat: String(nowS()) })(s), code: 'assertion_claims_invalid' },
    { name: 'exp as a float', forge: (s) => signed({ exp: nowS() + 120.5 })(s), code: 'assertion_claims_invalid' },
    { name: 'nbf as a string', forge: (s) => signed({ nbf: String(nowS()) })(s), code: 'assertion_claims_invalid' },
    { name: 'iat as a float', forge: (s) => signed({ iat: nowS() + 0.25 })(s), code: 'assertion_claims_invalid' },
    { name: 'exp negative', forge: signed({ exp: -1 }), code: 'assertion_expired' },
    { name: 'iat negative', forge: signed({ iat: -1 }), code: 'assertion_lifetime_too_long' },
    { name: 'exp 1e308', forge: signed({ exp: 1e308 }), code: 'assertion_claims_invalid' },
    { name: 'exp in milliseconds', forge: (s) => signed({ exp: clock.now() + 120_000 })(s), code: 'assertion_lifetime_too_long' },
    { name: 'iat and exp in milliseconds', forge: (s) => signed({ iat: clock.now(), exp: clock.now() + 120_000 })(s), code: 'assertion_not_yet_valid' },
    { name: 'exp null', forge: signed({ exp: null }), code: 'assertion_claims_invalid' },
    { name: 'exp true', forge: signed({ exp: true }), code: 'assertion_claims_invalid' },
    { name: 'exp missing', forge: signed({ exp: undefined }), code: 'assertion_claims_invalid' },
    { name: 'iat missing', forge: signed({ iat: undefined }), code: 'assertion_claims_invalid' },
  ]);

  it.each([
    ['exp 10 s ago (within the skew)', -130, -10],
    ['exp 25 s ago (within the skew)', -145, -25],
    ['iat 8 s in the future', 8, 128],
    ['iat 25 s in the future', 25, 145],
    ['exp - iat exactly 300 s', -10, 290],
  ] as const)('%s: accepted', async (_name, iatOffset, expOffset) => {
    const step = await begin();
    const res = await postAssertion(step, await signed({ iat: nowS() + iatOffset, exp: nowS() + expOffset })(step));
    expect(res.status).toBe(303);
  });

  it('nbf 8 s in the future: accepted', async () => {
    const step = await begin();
    const res = await postAssertion(step, await signed({ nbf: nowS() + 8 })(step));
    expect(res.status).toBe(303);
  });
});

describe('case 25 and the claim rules: jti, sub, role, nonce/target', () => {
  const CONTROL = ['\u0000', '\u0007', '\n', '\r', '\t', '\u001b', '\u007f', '\u0085', '\u009f'];
  runCases([
    { name: 'jti missing', forge: signed({ jti: undefined }), code: 'assertion_claims_invalid' },
    { name: 'jti empty', forge: signed({ jti: '' }), code: 'assertion_claims_invalid' },
    { name: 'jti a number', forge: signed({ jti: 42 }), code: 'assertion_claims_invalid' },
    { name: 'jti of 257 characters', forge: signed({ jti: 'j'.repeat(257) }), code: 'assertion_claims_invalid' },
    { name: 'sub missing', forge: signed({ sub: undefined }), code: 'assertion_claims_invalid' },
    { name: 'sub empty', forge: signed({ sub: '' }), code: 'assertion_claims_invalid' },
    { name: 'sub a number', forge: signed({ sub: 4711 }), code: 'assertion_claims_invalid' },
    { name: 'sub of 129 characters', forge: signed({ sub: 's'.repeat(129) }), code: 'assertion_claims_invalid' },
    { name: 'sub of 1000 characters', forge: signed({ sub: 's'.repeat(1000) }), code: 'assertion_claims_invalid' },
    ...CONTROL.map((c) => ({
      name: `sub with control character U+${c.codePointAt(0)!.toString(16).padStart(4, '0')}`,
      forge: signed({ sub: `leerling${c}4711` }),
      code: 'assertion_claims_invalid',
    })),
    { name: 'group key with a control character', forge: signed({ groups: [{ key: '8a\u0000', name: 'Groep 8A', grade: 8 }] }), code: 'assertion_claims_invalid' },
    { name: 'group key of 129 characters', forge: signed({ groups: [{ key: 'g'.repeat(129), name: 'Groep', grade: 8 }] }), code: 'assertion_claims_invalid' },
    { name: 'role unknown (admin)', forge: signed({ role: 'admin' }), code: 'assertion_claims_invalid' },
    { name: 'role in other case (Student)', forge: signed({ role: 'Student' }), code: 'assertion_claims_invalid' },
    { name: 'role missing', forge: signed({ role: undefined }), code: 'assertion_claims_invalid' },
    { name: 'role an array', forge: signed({ role: ['student'] }), code: 'assertion_claims_invalid' },
    { name: 'both nonce and target', forge: signed({ target: 'leesapp' }), code: 'assertion_claims_invalid' },
    { name: 'neither nonce nor target', forge: signed({ nonce: undefined }), code: 'assertion_claims_invalid' },
    { name: 'nonce a number', forge: signed({ nonce: 1 }), code: 'assertion_claims_invalid' },
    { name: 'birthdate not a date', forge: signed({ birthdate: '02-03-2014' }), code: 'assertion_claims_invalid' },
    { name: 'grade 0', forge: signed({ grade: 0 }), code: 'assertion_claims_invalid' },
    { name: '51 groups', forge: signed({ groups: Array.from({ length: 51 }, (_, i) => ({ key: `g${i}`, name: `Groep ${i}` })) }), code: 'assertion_claims_invalid' },
  ]);

  it.each([
    ['a student key of exactly 128 characters', 's'.repeat(128)],
    ['a student key of 128 astral characters (counted as characters, not UTF-16 units)', '\u{1F600}'.repeat(128)],
    ['a student key of 128 characters after NFC (256 before)', 'e\u0301'.repeat(128)],
  ])('%s: accepted', async (_name, sub) => {
    const step = await begin();
    const res = await postAssertion(step, await signed({ sub })(step));
    expect(res.status).toBe(303);
  });

  it('target instead of nonce is a school-started launch: never a code, and a product without initiateLoginUri gets a page', async () => {
    const step = await begin();
    const before = codeKeys();
    const res = await postAssertion(step, await signed({ nonce: undefined, target: 'leesapp' })(step));
    expect(await pageOf(res)).toEqual(refusedPage('launch_not_supported'));
    expect(codeKeys()).toEqual(before);
  });
});

describe('case 25: replay', () => {
  it('the same assertion posted twice: the second is assertion_replayed and stores no code', async () => {
    const step = await begin();
    const token = await genuine(step);
    expect((await postAssertion(step, token)).status).toBe(303);
    const before = codeKeys();
    expect(await pageOf(await postAssertion(step, token))).toEqual(refusedPage('assertion_replayed'));
    expect(codeKeys()).toEqual(before);
  });

  it('a new assertion reusing a used jti, for a new pending login, is assertion_replayed', async () => {
    const first = await begin();
    const jti = randomUUID();
    expect((await postAssertion(first, await signed({ jti })(first))).status).toBe(303);
    const second = await begin();
    const before = codeKeys();
    expect(await pageOf(await postAssertion(second, await signed({ jti })(second)))).toEqual(refusedPage('assertion_replayed'));
    expect(codeKeys()).toEqual(before);
  });

  it('jtis are per issuer: the same jti from another school\'s IdP is not a replay', async () => {
    const jti = randomUUID();
    const a = await begin(world.regenboog);
    expect((await postAssertion(a, await signed({ jti })(a))).status).toBe(303);
    const b = await begin(world.klimop, taal);
    const res = await postAssertion(b, await world.klimop.assertion(PUPIL, { nonce: b.nonce, aud: gateway.url, now: clock.now(), claims: { jti } }));
    expect(res.status).toBe(303);
  });

  it('50 concurrent posts of one assertion for one pending login: exactly one 303, 49 pages assertion_replayed, one code', async () => {
    const step = await begin();
    const token = await genuine(step);
    const before = codeKeys();
    const responses = await Promise.all(Array.from({ length: 50 }, () => postAssertion(step, token)));
    const outcomes = await Promise.all(responses.map(pageOf));
    const winners = outcomes.filter((o) => o.status === 303);
    expect(winners).toHaveLength(1);
    expect(winners[0]!.location).toMatch(/^https:\/\/leesapp\.example\/cb\?code=/);
    expect(outcomes.filter((o) => o.status !== 303)).toEqual(Array.from({ length: 49 }, () => refusedPage('assertion_replayed')));
    expect(codeKeys()).toHaveLength(before.length + 1);
  });
});

describe('case 26: binding to the pending login', () => {
  it('a login id made under another key (a forged one naming this client): login_expired, no code', async () => {
    const step = await begin();
    const before = codeKeys();
    const forged = newLoginId(randomBytes(32), { clientId: 'leesapp', school: world.regenboog.id });
    const res = await postAssertion(step, await signed({ nonce: forged })(step));
    expect(await pageOf(res)).toEqual(refusedPage('login_expired'));
    expect(codeKeys()).toEqual(before);
  });

  it('a pending login parked under a login id of the previous form (random only, across an upgrade) still completes once', async () => {
    const step = await begin();
    const pending = await takeAtSchool(gateway.kv, step.nonce);
    const previousForm = randomBytes(32).toString('base64url');
    await parkAtSchool(gateway.kv, previousForm, pending!);
    const assertion = await world.regenboog.assertion(PUPIL, { nonce: previousForm, aud: gateway.url, now: clock.now() });
    const res = await postAssertion(step, assertion);
    expect(res.status).toBe(303);
    expect(new URL(res.headers.get('location')!).searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await pageOf(await postAssertion(step, assertion))).toEqual(refusedPage('assertion_replayed'));
  });

  it('a nonce that belongs to no pending login: login_expired, no code', async () => {
    const step = await begin();
    const before = codeKeys();
    const res = await postAssertion(step, await signed({ nonce: 'a-nonce-the-gateway-never-issued' })(step));
    expect(await pageOf(res)).toEqual(refusedPage('login_expired'));
    expect(codeKeys()).toEqual(before);
  });

  it('a pending login completed once cannot be completed by a second, different, valid assertion: login_expired', async () => {
    const step = await begin();
    expect((await postAssertion(step, await genuine(step))).status).toBe(303);
    const before = codeKeys();
    const res = await postAssertion(step, await signed({ sub: 'another-pupil' })(step));
    expect(await pageOf(res)).toEqual(refusedPage('login_expired'));
    expect(codeKeys()).toEqual(before);
  });

  it('a pending login older than 300 s: login_expired, no code', async () => {
    const step = await begin();
    clock.advance(301_000);
    try {
      const before = codeKeys();
      const res = await postAssertion(step, await genuine(step));
      expect(await pageOf(res)).toEqual(refusedPage('login_expired'));
      expect(codeKeys()).toEqual(before);
    } finally {
      clock.advance(-301_000);
    }
  });

  it('a pending login 290 s old still completes', async () => {
    const step = await begin();
    clock.advance(290_000);
    try {
      expect((await postAssertion(step, await genuine(step))).status).toBe(303);
    } finally {
      clock.advance(-290_000);
    }
  });
});

describe('cases 27 and 30: strict JSON (duplicates, prototype names, depth)', () => {
  const header = () => JSON.stringify(headerFor());
  /** The genuine claims as JSON text, with `extra` spliced in as raw members before the closing brace. */
  const payloadWith = (extra: string) => (s: SchoolStep) => `${JSON.stringify(claimsFor(s)).slice(0, -1)},${extra}}`;
  runCases([
    { name: 'duplicate iss in the payload', forge: compactSigned(payloadWith('"iss":"https://idp.attacker.example"')), code: 'assertion_malformed' },
    { name: 'duplicate sub in the payload', forge: compactSigned(payloadWith('"sub":"someone-else"')), code: 'assertion_malformed' },
    { name: 'duplicate nonce in the payload', forge: compactSigned(payloadWith('"nonce":"x"')), code: 'assertion_malformed' },
    { name: 'duplicate member spelled with a \\u escape', forge: compactSigned(payloadWith('"\\u0073ub":"someone-else"')), code: 'assertion_malformed' },
    { name: 'duplicate member inside a group', forge: compactSigned(payloadWith('"groups":[{"key":"8a","key":"8b","name":"Groep 8A"}]')), code: 'assertion_malformed' },
    {
      name: 'duplicate alg in the header',
      forge: rawSigned(() => `${header().slice(0, -1)},"alg":"none"}`, (s) => JSON.stringify(claimsFor(s))),
      code: 'assertion_malformed',
    },
    {
      name: 'duplicate typ in the header',
      forge: rawSigned(() => `${header().slice(0, -1)},"typ":"JWT"}`, (s) => JSON.stringify(claimsFor(s))),
      code: 'assertion_malformed',
    },
    {
      name: 'duplicate kid in the header',
      forge: rawSigned(() => `${header().slice(0, -1)},"kid":"other"}`, (s) => JSON.stringify(claimsFor(s))),
      code: 'assertion_malformed',
    },
    { name: '__proto__ in the payload', forge: compactSigned(payloadWith('"__proto__":{"polluted":"yes"}')), code: 'assertion_malformed' },
    { name: 'constructor in the payload', forge: compactSigned(payloadWith('"constructor":{"prototype":{"polluted":"yes"}}')), code: 'assertion_malformed' },
    { name: 'prototype in the payload', forge: compactSigned(payloadWith('"prototype":{"polluted":"yes"}')), code: 'assertion_malformed' },
    { name: '__proto__ inside a group', forge: compactSigned(payloadWith('"groups":[{"key":"8a","name":"G","__proto__":{"polluted":"yes"}}]')), code: 'assertion_malformed' },
    { name: '__proto__ in the header', forge: rawSigned(() => `${header().slice(0, -1)},"__proto__":{"polluted":"yes"}}`, (s) => JSON.stringify(claimsFor(s))), code: 'assertion_malformed' },
    { name: 'nesting deeper than 5', forge: signed({ x: { a: { b: { c: { d: { e: { f: 1 } } } } } } }), code: 'assertion_malformed' },
    { name: 'more than 100 claims', forge: signed(Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`c${i}`, i]))), code: 'assertion_malformed' },
  ]);

  it('leaves no prototype pollution behind', () => {
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('cases 28-29: malformed and oversized tokens', () => {
  const claims = (s: SchoolStep) => JSON.stringify(claimsFor(s));
  const header = () => JSON.stringify(headerFor());
  runCases([
    { name: 'two segments', forge: mangled(([h, p]) => `${h}.${p}`), code: 'assertion_malformed' },
    { name: 'two segments with a trailing dot missing the signature', forge: mangled(([h, p]) => `${h}.${p}.`), code: 'assertion_malformed' },
    { name: 'four segments', forge: mangled((_s, t) => `${t}.${b64u('extra')}`), code: 'assertion_malformed' },
    { name: 'five segments (JWE shape)', forge: mangled((_s, t) => `${t}.${b64u('a')}.${b64u('b')}`), code: 'assertion_malformed' },
    { name: 'only dots', forge: () => Promise.resolve('..'), code: 'assertion_malformed' },
    { name: 'padding = on the payload', forge: mangled(([h, p, sig]) => `${h}.${p}==.${sig}`), code: 'assertion_malformed' },
    { name: 'padding = on the signature', forge: mangled((_s, t) => `${t}=`), code: 'assertion_malformed' },
    { name: 'standard base64 + and / characters', forge: mangled(([h, p, sig]) => `${h}.${p}.${sig!.replace(/-/g, '+').replace(/_/g, '/')}+/`), code: 'assertion_malformed' },
    { name: 'a space inside', forge: mangled((_s, t) => t.replace('.', ' .')), code: 'assertion_malformed' },
    { name: 'a trailing newline', forge: mangled((_s, t) => `${t}\n`), code: 'assertion_malformed' },
    { name: 'a NUL byte', forge: mangled((_s, t) => `${t}\u0000`), code: 'assertion_malformed' },
    { name: 'invalid UTF-8 in the payload', forge: rawSigned(header, (s) => Buffer.concat([Buffer.from(claims(s).slice(0, -1)), Buffer.from(',"x":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')])), code: 'assertion_malformed' },
    { name: 'invalid UTF-8 in the header', forge: rawSigned(() => Buffer.concat([Buffer.from(header().slice(0, -1)), Buffer.from(',"x":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]), claims), code: 'assertion_malformed' },
    { name: 'UTF-16 surrogate half encoded as UTF-8 (CESU)', forge: rawSigned(header, (s) => Buffer.concat([Buffer.from(claims(s).slice(0, -1)), Buffer.from(',"x":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')])), code: 'assertion_malformed' },
    { name: 'payload a JSON array', forge: rawSigned(header, (s) => JSON.stringify([claimsFor(s)])), code: 'assertion_malformed' },
    { name: 'payload a JSON string', forge: rawSigned(header, () => JSON.stringify('school-assertion')), code: 'assertion_malformed' },
    { name: 'payload a JSON number', forge: rawSigned(header, () => '42'), code: 'assertion_malformed' },
    { name: 'payload null', forge: rawSigned(header, () => 'null'), code: 'assertion_malformed' },
    { name: 'payload not JSON', forge: rawSigned(header, () => 'iss=school'), code: 'assertion_malformed' },
    { name: 'payload with trailing garbage after the object', forge: rawSigned(header, (s) => `${claims(s)}x`), code: 'assertion_malformed' },
    { name: 'payload with a trailing comma', forge: rawSigned(header, (s) => `${claims(s).slice(0, -1)},}`), code: 'assertion_malformed' },
    { name: 'payload with a single-quoted string (not JSON)', forge: rawSigned(header, (s) => `${claims(s).slice(0, -1)},'x':1}`), code: 'assertion_malformed' },
    { name: 'header a JSON array', forge: rawSigned(() => JSON.stringify([headerFor()]), claims), code: 'assertion_malformed' },
    { name: 'header not JSON', forge: rawSigned(() => 'alg=ES256', claims), code: 'assertion_malformed' },
    { name: 'JWS JSON serialization instead of compact', forge: mangled(([h, p, sig]) => JSON.stringify({ protected: h, payload: p, signature: sig })), code: 'assertion_malformed' },
    {
      name: 'a validly signed token over 8 KiB',
      forge: async (s) => {
        const token = await signed({ padding: 'p'.repeat(6200) })(s);
        expect(token.length).toBeGreaterThan(8192);
        return token;
      },
      code: 'assertion_malformed',
    },
  ]);

  it('an assertion field of 14 KiB in a body under 16 KiB: 400 assertion_malformed, nothing stored', async () => {
    const step = await begin();
    const before = kvKeys();
    const res = await postAssertion(step, `${await genuine(step)}${'A'.repeat(14 * 1024)}`);
    expect(await pageOf(res)).toEqual(refusedPage('assertion_malformed'));
    expect(kvKeys()).toEqual(before);
  });

  it('a body over 16 KiB: a 413 assertion_malformed page, never 500, nothing stored, no redirect', async () => {
    const step = await begin();
    const before = kvKeys();
    const res = await postForm(step.returnTo, { assertion: await genuine(step), padding: 'p'.repeat(17 * 1024) });
    const page = await pageOf(res);
    expect(page).toMatchObject({ status: 413, code: 'assertion_malformed', location: null, html: true });
    expect(kvKeys()).toEqual(before);
  });
});

describe('how the assertion arrives: content types and the form field', () => {
  const post = (returnTo: string, body: string, contentType?: string) =>
    // A byte body, so fetch adds no content type of its own.
    fetch(returnTo, { method: 'POST', redirect: 'manual', headers: contentType ? { 'content-type': contentType } : {}, body: new TextEncoder().encode(body) });

  it.each([
    ['a JSON body {"assertion": ...}', async (step: SchoolStep, url: string) => post(url, JSON.stringify({ assertion: await genuine(step) }), 'application/json')],
    ['a text/plain body assertion=...', async (step: SchoolStep, url: string) => post(url, `assertion=${await genuine(step)}`, 'text/plain')],
    ['a form without the assertion field', async (_step: SchoolStep, url: string) => postForm(url, { token: 'x' })],
    ['a form with an empty assertion field', async (_step: SchoolStep, url: string) => postForm(url, { assertion: '' })],
    ['a form with the assertion field twice (both genuine)', async (step: SchoolStep, url: string) => post(url, `assertion=${await genuine(step)}&assertion=${await genuine(step)}`, 'application/x-www-form-urlencoded')],
    ['an empty form', async (_step: SchoolStep, url: string) => post(url, '', 'application/x-www-form-urlencoded')],
  ] as const)('%s: 400 assertion_malformed, nothing stored', async (_name, send) => {
    const step = await begin();
    const before = kvKeys();
    expect(await pageOf(await send(step, step.returnTo))).toEqual(refusedPage('assertion_malformed'));
    expect(kvKeys()).toEqual(before);
    // The pending login is untouched: the proper form post still completes it.
    expect((await postAssertion(step, await genuine(step))).status).toBe(303);
  });

  it.each([
    ['multipart/form-data', 'multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="assertion"\r\n\r\nabc\r\n--x--\r\n'],
    ['application/xml', 'application/xml', '<assertion>abc</assertion>'],
    ['no content type', undefined, 'assertion=abc'],
    ['malformed JSON', 'application/json', '{"assertion":'],
  ] as const)('%s: a 400 page, never 500, nothing stored', async (_name, contentType, body) => {
    const step = await begin();
    const before = kvKeys();
    const page = await pageOf(await post(step.returnTo, body, contentType));
    expect(page).toMatchObject({ status: 400, location: null, html: true });
    expect(page.code).toBe('assertion_malformed');
    expect(kvKeys()).toEqual(before);
  });

  it('GET on the assertion endpoint does not log anyone in', async () => {
    const step = await begin();
    const token = await genuine(step);
    const res = await fetch(`${step.returnTo}?assertion=${token}`, { redirect: 'manual', headers: { accept: 'text/html' } });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.headers.get('location')).toBeNull();
    // The assertion was not consumed: posting it still works.
    expect((await postAssertion(step, token)).status).toBe(303);
  });
});

describe('licence check after a valid assertion (docs/privacy.md)', () => {
  it.each([
    ['a pupil whose only group is outside the licence scope (6b, grade 6)', { ...PUPIL, groups: [{ key: '6b', name: 'Groep 6B', grade: 6 }] }],
    ['a pupil without groups', { ...PUPIL, groups: [] }],
    ['a teacher without groups', { ...PUPIL, role: 'teacher' as const, groups: [] }],
  ])('%s, rekenapp licensed for group 8a and grade 7: 403 no_licence, nothing handed to the publisher', async (_name, pupil) => {
    const step = await begin(world.regenboog, reken);
    const before = codeKeys();
    const token = await world.regenboog.assertion(pupil, { nonce: step.nonce, aud: gateway.url, now: clock.now() });
    expect(await pageOf(await postAssertion(step, token))).toEqual(refusedPage('no_licence', 403));
    expect(codeKeys()).toEqual(before);
  });

  it('a pupil in grade 7 by the top-level grade claim is in scope', async () => {
    const step = await begin(world.regenboog, reken);
    const token = await world.regenboog.assertion({ ...PUPIL, groups: [{ key: '6b', name: 'Groep 6/7', grade: 6 }], grade: 7 }, { nonce: step.nonce, aud: gateway.url, now: clock.now() });
    expect((await postAssertion(step, token)).status).toBe(303);
  });

  it('a school with no licence at all for the client: 403 no_licence', async () => {
    const step = await begin(world.klimop, reken);
    const before = codeKeys();
    const token = await world.klimop.assertion(PUPIL, { nonce: step.nonce, aud: gateway.url, now: clock.now() });
    const refused = await postAssertion(step, token);
    const html = await refused.clone().text();
    expect(await pageOf(refused)).toEqual(refusedPage('no_licence', 403));
    expect(codeKeys()).toEqual(before);
    // The page names what the pupil was logging in to, and whose it is, in both languages.
    expect(html).toContain('Je logt in bij <strong class="product-name">Rekenapp</strong> van Uitgever A.');
    expect(html).toContain('You are logging in to <strong class="product-name">Rekenapp</strong> by Uitgever A.');
  });
});

describe('school signing algorithms that work', () => {
  it.each([
    ['RS256 with a 2048-bit key', () => rsa],
    ['PS256', () => pss],
    ['EdDSA (Ed25519)', () => eddsa],
    ['ES256', () => world.regenboog],
  ] as const)('%s: a full login to an id_token', async (_name, school) => {
    const { claims } = await fullLogin(gateway, school(), lees, PUPIL);
    expect(claims.sub).toMatch(/^[a-z2-7]{32}$/);
    expect(claims.grade).toBe(8);
  });

  it('an Ed25519 key registered as EdDSA also verifies a token whose header says Ed25519 (RFC 9864)', async () => {
    const step = await begin(eddsa);
    const token = await eddsa.assertion(PUPIL, { nonce: step.nonce, aud: gateway.url, now: clock.now(), header: { alg: 'Ed25519' } });
    expect((await postAssertion(step, token)).status).toBe(303);
  });

  it('a school registered with a 1024-bit RSA key cannot log anyone in: refused at registration or a 400 page, never 503 or 500', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const weak = await TestSchool.create('24KL');
    const kid = 'weak-rsa';
    const registration = { ...weak.registration(), jwks: { keys: [{ ...(publicKey.export({ format: 'jwk' }) as JWK), kid, alg: 'RS256', use: 'sig' }] } };
    const seed = { ...world.seed, schools: [registration], licences: [{ school: '24KL', client: 'leesapp', claims: ['grade'] }] };
    const second = await startGateway({ seed }).catch((err: unknown) => err as Error);
    if (second instanceof Error) {
      // Refusing the registration is the better answer.
      expect(second.name).toBe('SeedError');
      return;
    }
    try {
      const publisher = await TestPublisher.create(second.url, 'leesapp', LEES_CB, { key: world.leesKey });
      const started = await publisher.startLogin({ school_hint: '24KL' });
      const step = await toSchool(second, weak, started.url);
      const now = Math.floor(Date.now() / 1000);
      const header = b64u(JSON.stringify({ alg: 'RS256', kid, typ: 'school-assertion+jwt' }));
      const payload = b64u(JSON.stringify({ iss: weak.issuer, aud: second.url, iat: now, exp: now + 120, jti: randomUUID(), school: '24KL', role: 'student', sub: PUPIL.sub, nonce: step.nonce }));
      const signature = b64u(nodeSign('sha256', Buffer.from(`${header}.${payload}`), privateKey));
      const page = await pageOf(await postAssertion(step, `${header}.${payload}.${signature}`));
      expect(page).toMatchObject({ status: 400, location: null, html: true });
      expect(page.code).toMatch(/^assertion_/);
    } finally {
      await second.close();
    }
  });
});

describe('logging of refusals (docs/failure-behaviour.md)', () => {
  it('a refusal logs its code once and never the assertion, the student key or the nonce', async () => {
    const step = await begin();
    const from = gateway.logs.length;
    const token = await signed({ aud: 'https://other-broker.example', sub: 'canary-student-key-93817' })(step);
    expect(await pageOf(await postAssertion(step, token))).toEqual(refusedPage('assertion_wrong_audience'));
    const lines = gateway.logs.slice(from);
    expect(lines.filter((l) => l.includes('"assertion_wrong_audience"'))).toHaveLength(1);
    for (const secret of [token, token.split('.')[1]!, token.split('.')[2]!, 'canary-student-key-93817', step.nonce]) {
      expect(lines.join('\n')).not.toContain(secret);
    }
  });
});
