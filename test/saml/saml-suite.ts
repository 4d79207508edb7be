import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAuthnRequest, SamlIdp, samlId, type ResponseOptions, type SamlPerson } from '../../demo/saml-idp.js';
import { newSpKey, rotateSpKeys } from '../../src/saml/sp-keys.js';
import type { Kv } from '../../src/store/kv.js';
import { pageOf, refusedPage } from '../helpers/assertion-tests-util.js';
import { CookieJar } from '../helpers/cookie-jar.js';
import { LEES_CB, makeWorld, REKEN_CB, REKEN_LAUNCH, type World } from '../helpers/fixture.js';
import { fullLogin } from '../helpers/browser.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { JwksServer } from '../helpers/jwks-server.js';
import { TestPublisher } from '../helpers/publisher.js';
import { LOGIN_ID } from '../../src/login/login-id.js';

// SAML schools end to end (docs/saml.md): a real identity provider (demo/saml-idp.ts,
// signing with xml-crypto) answers the gateway's AuthnRequest; the response goes
// through real HTTP to /saml/acs with the browser's cookies; openid-client is the
// publisher. Then every refusal of docs/saml.md, "Validation", each with its page
// and nothing released.

const HUB = 'https://hub.entree.example/idp';
/** Two schools behind one federation hub; one more behind its own ADFS. */
const HUB_SCHOOLS = { '56EF': 'Het Lyceum', '78GH': 'De Brede School', '34KL': 'Het College' };
const ADFS = 'https://adfs.school.example/adfs/services/trust';

export function defineSamlSuite(makeKv: () => Promise<{ kv: Kv; cleanup: () => Promise<void> }>) {
  let world: World;
  let gateway: TestGateway;
  let reken: TestPublisher;
  let lees: TestPublisher;
  let cleanup: () => Promise<void>;
  let dataDir: string;
  const server = new JwksServer();
  let hub: SamlIdp;
  let adfs: SamlIdp;

  const pupil = (extra: Partial<SamlPerson> = {}): SamlPerson => ({
    uid: `lln-${randomBytes(4).toString('hex')}`, givenName: 'Fleur', sn: 'Smit', affiliation: 'student', brin: '56EF', homeOrganization: 'Het Lyceum', ...extra,
  });

  beforeAll(async () => {
    world = await makeWorld();
    await server.listen();
    const port = server.port;
    hub = new SamlIdp(HUB, `http://127.0.0.1:${port}/hub/sso`);
    adfs = new SamlIdp(ADFS, `http://127.0.0.1:${port}/adfs/sso`);
    server.route('/broken/metadata', (_req, res) => res.writeHead(500).end());
    server.route('/hub/metadata', (_req, res) => res.writeHead(200, { 'content-type': 'application/samlmetadata+xml' }).end(hub.metadataXml()));
    const store = await makeKv();
    cleanup = store.cleanup;
    dataDir = await mkdtemp(join(tmpdir(), 'pgw-saml-'));
    const saml = (id: string, name: string, login: object, extra: object = {}) => ({ id, name, roster: 'none', login: { kind: 'saml', ...login }, ...extra });
    const seed = {
      ...world.seed,
      schools: [
        ...world.seed.schools,
        ...Object.entries(HUB_SCHOOLS).map(([id, name]) => saml(id, name, { metadataUrl: `http://127.0.0.1:${port}/hub/metadata`, entityId: HUB }, { ...(id === '78GH' ? { allowLaunch: true } : {}), ...(id === '34KL' ? { roster: 'required' } : {}) })),
        saml('90JK', 'School met eigen ADFS', { metadataXml: adfs.metadataXml(), entityId: ADFS }),
        saml('12XY', 'School met een kapotte IdP', { metadataUrl: `http://127.0.0.1:${port}/broken/metadata`, entityId: 'https://broken.example/idp' }),
      ],
      licences: [
        ...world.seed.licences,
        ...['56EF', '78GH', '90JK'].flatMap((school) => [
          { school, client: 'rekenapp', claims: ['school', 'role', 'given_name'] },
          { school, client: 'leesapp', claims: ['school'] },
        ]),
      ],
    };
    gateway = await startGateway({ seed, kv: store.kv, env: { DATA_DIR: dataDir, SIGNING_KEYS_RELOAD_S: '1' } });
    reken = await TestPublisher.create(gateway.url, 'rekenapp', REKEN_CB, { key: world.rekenKey });
    lees = await TestPublisher.create(gateway.url, 'leesapp', LEES_CB, { key: world.leesKey });
  });
  afterAll(async () => {
    await gateway?.close();
    await server.close();
    await cleanup?.();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const acs = () => `${gateway.url}/saml/acs`;
  const spEntity = () => `${gateway.url}/saml/metadata`;
  const released = () => gateway.ledger!.recorded.length;

  /** The publisher sends the browser to the gateway, which sends it on to the school's identity provider. */
  async function toIdp(publisher: TestPublisher, school: string, idp: SamlIdp = hub) {
    const browser = new CookieJar();
    const started = await publisher.startLogin({ school_hint: school });
    const res = await browser.get(started.url);
    expect(res.status).toBe(303);
    const location = res.headers.get('location')!;
    expect(location.startsWith(idp.ssoUrl)).toBe(true);
    const request = readAuthnRequest(location);
    return { browser, started, request, location };
  }

  const options = (request: { id: string }, extra: Partial<ResponseOptions> = {}): ResponseOptions => ({
    inResponseTo: request.id, acs: acs(), audience: spEntity(), ...extra,
  });

  async function post(browser: CookieJar, samlResponse: string, extra: Record<string, string> = {}) {
    return browser.post(acs(), { SAMLResponse: samlResponse, ...extra });
  }

  async function login(publisher: TestPublisher, school: string, person: SamlPerson, extra: Partial<ResponseOptions> = {}, idp = hub) {
    const { browser, started, request } = await toIdp(publisher, school, idp);
    const res = await post(browser, await idp.response(person, options(request, extra)));
    expect(res.status, await res.clone().text()).toBe(303);
    const tokens = await publisher.finishLogin(new URL(res.headers.get('location')!), started);
    return { claims: tokens.claims()!, browser };
  }

  describe('service provider', () => {
    it('publishes its metadata at its entity id: the ACS (HTTP-POST) and its key for signing and encryption', async () => {
      const res = await fetch(spEntity());
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/samlmetadata\+xml/);
      const xml = await res.text();
      expect(xml).toContain(`entityID="${spEntity()}"`);
      expect(xml).toContain(`Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${acs()}"`);
      expect(xml.match(/use="signing"/g)).toHaveLength(1);
      expect(xml.match(/use="encryption"/g)).toHaveLength(1);
    });

    it('sends a signed AuthnRequest with the HTTP-Redirect binding; its ID names the pending login', async () => {
      const { request, location } = await toIdp(reken, '56EF');
      const url = new URL(location);
      expect(url.searchParams.get('SigAlg')).toBe('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');
      expect(url.searchParams.get('Signature')).toBeTruthy();
      expect(request.acs).toBe(acs());
      expect(request.issuer).toBe(spEntity());
      expect(request.id).toMatch(new RegExp(`^_${LOGIN_ID.source.slice(1)}`));
      expect(gateway.kv).toBeDefined();
    });
  });

  describe('identity provider metadata', () => {
    it('fetches the hub\'s metadata once and keeps it for the next logins', async () => {
      const before = server.count('/hub/metadata');
      await toIdp(reken, '56EF');
      await toIdp(reken, '78GH');
      expect(server.count('/hub/metadata')).toBe(before);
      expect(before).toBe(1);
    });

    it('answers upstream_unavailable (503, Retry-After) when the metadata cannot be fetched, before anything is parked', async () => {
      const browser = new CookieJar();
      const started = await reken.startLogin({ school_hint: '12XY' });
      const res = await browser.get(started.url);
      expect(await pageOf(res)).toEqual(refusedPage('upstream_unavailable', 503));
      expect(res.headers.get('retry-after')).toBeTruthy();
    });
  });

  describe('login', () => {
    it('turns a signed Entree response into a pseudonymous id_token, the BRIN picking the school of the hub', async () => {
      const person = pupil({ brin: '78GH' });
      const { claims } = await login(reken, '56EF', person);
      expect(claims.school).toBe('78GH');
      expect(claims.role).toBe('student');
      expect(claims.given_name).toBe('Fleur');
      expect(claims.sub).toMatch(/^[a-z2-7]{32}$/);
      expect(JSON.stringify(claims)).not.toContain(person.uid);
    });

    it('maps eduPersonAffiliation employee to a teacher', async () => {
      const { claims } = await login(reken, '56EF', pupil({ affiliation: 'employee' }));
      expect(claims.role).toBe('teacher');
    });

    it('gives the same pseudonym for the same uid, at both products of one supplier', async () => {
      const person = pupil();
      const first = await login(reken, '56EF', person);
      const again = await login(lees, '56EF', person);
      expect(again.claims.sub).toBe(first.claims.sub);
    });

    it('accepts an assertion encrypted to the SP key, from inline metadata without a BRIN (the school\'s own ADFS)', async () => {
      const spCert = await spCertificate();
      const { claims } = await login(reken, '90JK', pupil({ brin: undefined }), { encryptTo: spCert }, adfs);
      expect(claims.school).toBe('90JK');
    });

    it('gives the pupil key the same pseudonym whether the school signs the gateway\'s assertion or logs in over SAML', async () => {
      const masterKey = randomBytes(32);
      const store = await makeKv();
      const asAssertion = await startGateway({ seed: world.seed, kv: store.kv, masterKey, env: { DATA_DIR: dataDir } });
      const bySaml = await startGateway({
        seed: { ...world.seed, schools: world.seed.schools.map((s) => ((s as { id: string }).id === '12AB' ? { id: '12AB', name: 'De Regenboog', roster: 'none', login: { kind: 'saml', metadataXml: hub.metadataXml(), entityId: HUB } } : s)) },
        kv: (await makeKv()).kv, masterKey, env: { DATA_DIR: dataDir },
      });
      try {
        const viaAssertion = await fullLogin(asAssertion, world.regenboog, await TestPublisher.create(asAssertion.url, 'leesapp', LEES_CB, { key: world.leesKey }), { sub: 'leerling-4711' });
        const publisher = await TestPublisher.create(bySaml.url, 'leesapp', LEES_CB, { key: world.leesKey });
        const browser = new CookieJar();
        const started = await publisher.startLogin({ school_hint: '12AB' });
        const request = readAuthnRequest((await browser.get(started.url)).headers.get('location')!);
        const res = await browser.post(`${bySaml.url}/saml/acs`, {
          SAMLResponse: await hub.response(pupil({ uid: 'leerling-4711', brin: '12AB' }), { inResponseTo: request.id, acs: `${bySaml.url}/saml/acs`, audience: `${bySaml.url}/saml/metadata` }),
        });
        expect(res.status).toBe(303);
        const viaSaml = (await publisher.finishLogin(new URL(res.headers.get('location')!), started)).claims()!;
        expect(viaSaml.sub).toBe(viaAssertion.claims.sub);
      } finally {
        await asAssertion.close();
        await bySaml.close();
        await store.cleanup();
      }
    });

    it('accepts a response of 60 KiB (the limit is 64 KiB of XML, base64 and URL-encoded in the form)', async () => {
      // '???' is 'Pz8/' in base64: a '/' in every four characters, '%2F' in the form.
      const { claims } = await login(reken, '56EF', pupil(), { attributes: { padding: ['???'.repeat(19_000)] } });
      expect(claims.school).toBe('56EF');
    });

    it('accepts a signed response around a signed assertion', async () => {
      const { claims } = await login(reken, '56EF', pupil(), { signResponse: true });
      expect(claims.school).toBe('56EF');
    });

    it('opens the product from an unsolicited response only for a school that turned school-started launch on', async () => {
      const browser = new CookieJar();
      const res = await post(browser, await hub.response(pupil({ brin: '78GH' }), { acs: acs(), audience: spEntity() }), { RelayState: 'rekenapp' });
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe(`${REKEN_LAUNCH}&iss=${encodeURIComponent(gateway.url)}`);
    });
  });

  async function spCertificates(): Promise<string[]> {
    const xml = await (await fetch(spEntity())).text();
    return [...xml.matchAll(/use="encryption">.*?<ds:X509Certificate>([^<]+)</g)].map(([, body]) =>
      `-----BEGIN CERTIFICATE-----\n${body!.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`);
  }
  const spCertificate = async () => (await spCertificates())[0]!;

  describe('SP key rotation', () => {
    it('publishes the next key beside the current one, and an assertion encrypted to the next key still decrypts', async () => {
      const next = await rotateSpKeys(dataDir, Date.now() + 3_600_000);
      // The gateway re-reads the key file when it changed (SIGNING_KEYS_RELOAD_S is 1 s here).
      await expect.poll(async () => (await spCertificates()).length, { timeout: 5000, interval: 300 }).toBe(2);
      const [current, published] = await spCertificates();
      expect(published!.replace(/\s+/g, '')).toBe(next.cert.replace(/\s+/g, ''));
      expect(current).not.toBe(published);
      const { claims } = await login(reken, '56EF', pupil(), { encryptTo: next.cert });
      expect(claims.school).toBe('56EF');
    });
  });

  describe('refusals: a page with its code, nothing released', () => {
    /** Start a login, post what `respond` builds, expect the refusal page and no release. */
    async function refused(respond: (request: { id: string }) => Promise<string>, code: string, reason: string | undefined, status = 400, school = '56EF') {
      const { browser, request } = await toIdp(reken, school);
      const before = released();
      const res = await post(browser, await respond(request));
      expect(await pageOf(res)).toEqual(refusedPage(code, status));
      expect(res.headers.getSetCookie().join()).not.toMatch(/pgw_session=[^;]/);
      expect(released()).toBe(before);
      // The check that refused it (the log line's reason), so each test proves the check it names.
      const line = JSON.parse(gateway.logs.filter((l) => l.includes('/saml/acs')).at(-1)!) as { code?: string; reason?: string };
      expect({ code: line.code, reason: line.reason }).toEqual({ code, reason });
    }
    const xml = (person: SamlPerson, request: { id: string }, extra: Partial<ResponseOptions> = {}) => hub.responseXml(person, options(request, extra));
    const b64 = (text: string) => Buffer.from(text).toString('base64');

    it('names the product the pupil is logging in to on the refusal page', async () => {
      const { browser, request } = await toIdp(reken, '56EF');
      const res = await post(browser, await hub.response(pupil(), options(request, { signAssertion: false })));
      expect(res.status).toBe(400);
      const text = (await res.text()).replace(/<[^>]+>/g, '');
      expect(text).toContain('Je logt in bij Rekenapp van Uitgever A.');
      expect(text).toContain('You are logging in to Rekenapp by Uitgever A.');
    });

    /** A response that carries only a status, as an identity provider that said no sends it. */
    const statusOnly = (r: { id: string }, value: string) => b64('<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"'
      + ` ID="_status-only" Version="2.0" IssueInstant="${new Date().toISOString()}" InResponseTo="${r.id}"><saml:Issuer>${hub.entityId}</saml:Issuer>`
      + `<samlp:Status><samlp:StatusCode Value="${value}"/></samlp:Status></samlp:Response>`);

    it('an identity provider that said no: upstream_denied 403, its status code named in the log', () =>
      refused(async (r) => statusOnly(r, 'urn:oasis:names:tc:SAML:2.0:status:Responder'), 'upstream_denied', 'saml_status_Responder', 403));

    it('a status value that is no status code reaches the log as "other", never as sent', () =>
      refused(async (r) => statusOnly(r, 'urn:x:lln-1234 Sanne de Vries'), 'upstream_denied', 'saml_status_other', 403));

    it('an unsigned response and assertion', () => refused(async (r) => hub.response(pupil(), options(r, { signAssertion: false })), 'upstream_invalid', 'saml_signature'));

    it('a signed response around an unsigned assertion', () => refused(async (r) => hub.response(pupil(), options(r, { signAssertion: false, signResponse: true })), 'upstream_invalid', 'saml_signature'));

    it('a signature by another key', () => refused(async (r) => hub.response(pupil(), options(r, { signWith: newSpKey() })), 'upstream_invalid', 'saml_signature'));

    it('another key that carries its own certificate in KeyInfo', () => {
      const other = newSpKey();
      return refused(async (r) => hub.response(pupil(), options(r, { signWith: other, keyInfoCert: other.cert })), 'upstream_invalid', 'saml_signature');
    });

    it('signature wrapping: a second, unsigned assertion beside the signed one', () =>
      refused(async (r) => {
        const signed = await xml(pupil(), r);
        const evil = (await xml(pupil({ uid: 'someone-else' }), r, { signAssertion: false })).match(/<saml:Assertion[\s\S]*<\/saml:Assertion>/)![0];
        return b64(signed.replace('</samlp:Response>', `${evil}</samlp:Response>`));
      }, 'upstream_invalid', 'saml_assertion_count'));

    it('signature wrapping: the signed assertion moved into an extension, an unsigned one in its place', () =>
      refused(async (r) => {
        const signed = await xml(pupil(), r);
        const original = signed.match(/<saml:Assertion[\s\S]*<\/saml:Assertion>/)![0];
        const evil = original.replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, '').replace(/lln-[0-9a-f]+/g, 'someone-else');
        return b64(signed.replace(original, `<samlp:Extensions>${original}</samlp:Extensions>${evil}`));
      }, 'upstream_invalid', 'saml_signature'));

    it('a comment inside the NameID', () =>
      refused(async (r) => {
        const signed = await xml(pupil({ uid: 'lln-1234.evil' }), r);
        return b64(signed.replace('>lln-1234.evil</saml:NameID>', '>lln-1234<!---->.evil</saml:NameID>'));
      }, 'upstream_invalid', 'saml_xml_comment'));

    it('a wrong audience', () => refused(async (r) => hub.response(pupil(), options(r, { audience: 'https://other-sp.example/metadata' })), 'upstream_invalid', 'saml_audience'));

    it('a wrong recipient', () => refused(async (r) => hub.response(pupil(), options(r, { recipient: 'https://other-sp.example/acs' })), 'upstream_invalid', 'saml_recipient'));

    it('a wrong destination', () => refused(async (r) => hub.response(pupil(), options(r, { destination: 'https://other-sp.example/acs' })), 'upstream_invalid', 'saml_destination'));

    it('an expired assertion', () => refused(async (r) => hub.response(pupil(), options(r, { notBeforeS: -600, notOnOrAfterS: -61 })), 'upstream_invalid', 'saml_time'));

    it('an assertion not valid yet', () => refused(async (r) => hub.response(pupil(), options(r, { notBeforeS: 120, notOnOrAfterS: 600 })), 'upstream_invalid', 'saml_time'));

    it('a BRIN the identity provider may not assert', () => refused(async (r) => hub.response(pupil({ brin: '90JK' }), options(r)), 'wrong_tenant', 'saml_brin_not_allowed', 403));

    it('a person not on the roster the school requires', () => refused(async (r) => hub.response(pupil({ brin: '34KL' }), options(r)), 'not_on_roster', undefined, 403));

    it('a NameID that is not the uid', () => refused(async (r) => hub.response(pupil(), options(r, { nameId: 'someone-else' })), 'upstream_invalid', 'saml_nameid_uid_mismatch'));

    it('a DOCTYPE, whatever the signature', () =>
      refused(async (r) => b64((await xml(pupil(), r)).replace('<samlp:Response', '<!DOCTYPE samlp:Response [<!ENTITY x "lln">]><samlp:Response')), 'upstream_invalid', 'saml_xml_doctype'));

    it('entity expansion (a billion laughs)', () =>
      refused(async () => b64(`<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]><samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&lol2;</samlp:Response>`), 'upstream_invalid', 'saml_xml_doctype'));

    it('an oversized response', () => refused(async (r) => hub.response(pupil(), options(r, { attributes: { padding: ['x'.repeat(100 * 1024)] } })), 'upstream_invalid', undefined, 413));

    it('a response to another request (InResponseTo of another login)', async () => {
      const other = await toIdp(reken, '56EF');
      await refused(async () => hub.response(pupil(), options(other.request)), 'login_other_browser', 'login_cookie_mismatch');
    });

    it('an assertion answering another request than its response', () =>
      refused(async (r) => hub.response(pupil(), options(r, { subjectInResponseTo: samlId() })), 'upstream_invalid', 'saml_in_response_to'));

    it('a response to a request the gateway never made', () =>
      refused(async () => hub.response(pupil(), options({ id: samlId() })), 'login_expired', 'pending login unknown, expired or taken'));

    it('an unsolicited response for a school without school-started launch', () =>
      refused(async () => hub.response(pupil(), { acs: acs(), audience: spEntity() }), 'upstream_invalid', 'saml_unsolicited'));

    it('a replayed assertion ID', async () => {
      const assertionId = samlId();
      await login(reken, '56EF', pupil(), { assertionId });
      await refused(async (r) => hub.response(pupil(), options(r, { assertionId })), 'upstream_invalid', 'saml_assertion_replayed');
    });

    it('a response posted twice', async () => {
      const { browser, request } = await toIdp(reken, '56EF');
      const response = await hub.response(pupil(), options(request));
      expect((await post(browser, response)).status).toBe(303);
      const before = released();
      expect(await pageOf(await post(browser, response))).toEqual(refusedPage('login_expired'));
      expect(released()).toBe(before);
    });
  });
}
