import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAuthnRequest, SamlIdp, type SamlPerson } from '../../demo/saml-idp.js';
import { pageOf, refusedPage } from '../helpers/assertion-tests-util.js';
import { CookieJar } from '../helpers/cookie-jar.js';
import { pgliteTestDb, type TestDb } from '../helpers/db.js';
import { makeWorld, REKEN_CB } from '../helpers/fixture.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { TestPublisher } from '../helpers/publisher.js';

// A SAML school with a required roster (docs/saml.md, docs/school-login.md): the
// uid is looked up in the roster's logins (personAtSchool), the roster's pupil
// key, groups and grade win; a uid the roster does not hold is not_on_roster.
// The gateway with its database (PGlite), the roster put through the admin API.

const BOOTSTRAP = 'bootstrap-token-0123456789-abcdefghijklmnopqrstuvwxyz';
const HUB = 'https://hub.entree.example/idp';

describe('a SAML school with a required roster', () => {
  let store: TestDb;
  let gateway: TestGateway;
  let reken: TestPublisher;
  let dataDir: string;
  const hub = new SamlIdp(HUB, 'https://hub.entree.example/sso');

  beforeAll(async () => {
    const world = await makeWorld();
    store = await pgliteTestDb();
    dataDir = await mkdtemp(join(tmpdir(), 'pgw-saml-roster-'));
    const seed = {
      ...world.seed,
      schools: [...world.seed.schools, { id: '56EF', name: 'Het Lyceum', roster: 'required', login: { kind: 'saml', metadataXml: hub.metadataXml(), entityId: HUB } }],
      licences: [...world.seed.licences, { school: '56EF', client: 'rekenapp', claims: ['school', 'role', 'grade', 'group_names', 'given_name'] }],
    };
    gateway = await startGateway({ seed, db: store.db, env: { OPERATOR_BOOTSTRAP_TOKEN: BOOTSTRAP, RATE_LIMIT_ADMIN_PER_MIN: '100000', DATA_DIR: dataDir } });
    const res = await fetch(`${gateway.url}/admin/v1/schools/56EF/roster`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${BOOTSTRAP}`, 'content-type': 'application/json' },
      body: JSON.stringify({ people: [{ studentKey: 'll-5001', logins: ['fleur.smit'], role: 'student', given_name: 'Fleur', family_name: 'Smit', groups: [{ key: '5a', name: 'Klas 5A', grade: 5 }], grade: 5 }] }),
    });
    expect(res.status, await res.text()).toBe(200);
    reken = await TestPublisher.create(gateway.url, 'rekenapp', REKEN_CB, { key: world.rekenKey });
  }, 60_000);
  afterAll(async () => {
    await gateway?.close();
    await store?.cleanup();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  async function answer(person: SamlPerson) {
    const browser = new CookieJar();
    const started = await reken.startLogin({ school_hint: '56EF' });
    const request = readAuthnRequest((await browser.get(started.url)).headers.get('location')!);
    const res = await browser.post(`${gateway.url}/saml/acs`, {
      SAMLResponse: await hub.response(person, { inResponseTo: request.id, acs: `${gateway.url}/saml/acs`, audience: `${gateway.url}/saml/metadata` }),
    });
    return { res, started };
  }

  it('finds the person by uid: the roster\'s grade, groups and name, never the uid', async () => {
    const { res, started } = await answer({ uid: 'fleur.smit', givenName: 'F.', sn: 'S.', affiliation: 'student', brin: '56EF' });
    expect(res.status).toBe(303);
    const claims = (await reken.finishLogin(new URL(res.headers.get('location')!), started)).claims()!;
    expect(claims).toMatchObject({ school: '56EF', role: 'student', grade: 5, group_names: ['Klas 5A'], given_name: 'Fleur' });
    expect(JSON.stringify(claims)).not.toContain('fleur.smit');
  });

  it('refuses a uid the roster does not hold: not_on_roster, nothing released', async () => {
    const disclosures = async () => (await store.db.query('select count(*)::int as n from disclosures'))[0]!.n;
    const before = await disclosures();
    expect(before).toBe(1);
    const { res } = await answer({ uid: 'someone.else', affiliation: 'student', brin: '56EF' });
    expect(await pageOf(res)).toEqual(refusedPage('not_on_roster', 403));
    expect(await disclosures()).toBe(before);
  });
});
