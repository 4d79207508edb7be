import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { adminClient } from '../helpers/admin.js';
import { adminOperations, probesFor, runProbes, type FuzzTarget, type OpenApiDocument, type Operation } from '../helpers/admin-fuzz.js';
import type { TestDb } from '../helpers/db.js';
import { makeWorld, type World } from '../helpers/fixture.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';

// The admin API under hostile input, driven by its own OpenAPI document, run
// once per database adapter: for every operation, each field (path and query
// parameters, body properties and their nested members) in turn gets values of
// the wrong type, malformed and huge strings and deep nesting, on top of a
// valid request. Every answer must be a client error as problem+json (or a
// success, where the value happens to be valid), never a 5xx. A URL the URL
// check refused once made the seed schema's refinements throw (500, not 400).

const BOOTSTRAP = 'bootstrap-token-0123456789-abcdefghijklmnopqrstuvwxyz';

/** The valid request each probe changes one field of; deletes name things that do not exist, so the fixtures stay. */
function fuzzTarget(world: World, baseUrl: string, licenceId: string): FuzzTarget {
  const existing: Record<string, string> = { schoolId: '12AB', supplierId: 'uitgever-a', clientId: 'rekenapp', licenceId, tokenId: randomUUID(), objectionId: randomUUID(), jobId: randomUUID(), importId: randomUUID() };
  const absent: Record<string, string> = { schoolId: '99ZZ', supplierId: 'niemand', clientId: 'niemandapp', licenceId: randomUUID() };
  const query: Record<string, string> = { limit: '10', offset: '0', format: 'json', supplier: 'uitgever-a', from: '2024-01-01', until: '2024-12-31' };
  const client = { clientId: 'fuzzapp', supplier: 'uitgever-a', name: 'Fuzz', redirectUris: ['https://fuzz.example/cb'], initiateLoginUri: 'https://fuzz.example/launch', jwks: { keys: [world.rekenKey.publicJwk] }, claims: ['school'] };
  const licence = { client: 'leesapp', claims: ['grade'], groups: ['8a'], grades: [8], validFrom: '2020-01-01', validUntil: '2099-12-31' };
  const token = { label: 'fuzz', expiresInDays: 30 };
  const rosterPerson = {
    studentKey: 'leerling-1', logins: ['leerling1@school.example'], role: 'student', given_name: 'Fuzz', tussenvoegsel: 'van', family_name: 'Test',
    birthdate: '2014-03-02', gender: 'female', groups: [{ key: '8a', name: 'Groep 8a', grade: 8 }], grade: 8,
  };
  const bodies: Record<string, unknown> = {
    'POST /schools': { id: '56EF', name: 'Fuzz', issuer: 'https://idp-56ef.example', loginUrl: 'https://idp-56ef.example/login', jwks: world.regenboog.jwks },
    'PUT /schools/{schoolId}': world.regenboog.registration(),
    'POST /suppliers': { id: 'uitgever-f', name: 'F', keyVersion: 1 },
    'PUT /suppliers/{supplierId}': { id: 'uitgever-a', name: 'Uitgever A', keyVersion: 1 },
    'POST /clients': client,
    'PUT /clients/{clientId}': { ...client, clientId: 'rekenapp', redirectUris: ['https://rekenapp.example/cb'] },
    'POST /schools/{schoolId}/licences': licence,
    'PUT /schools/{schoolId}/licences/{licenceId}': licence,
    'POST /schools/{schoolId}/tokens': token,
    'POST /operator-tokens': token,
    'POST /schools/{schoolId}/objections': { studentKey: 'leerling-1', client: 'leesapp' },
    'POST /schools/{schoolId}/pupils/disclosures': { studentKey: 'leerling-1' },
    'POST /schools/{schoolId}/pupils/erase': { studentKey: 'leerling-fuzz' },
    'POST /schools/{schoolId}/pseudonym-jobs': { supplier: 'uitgever-a', studentKeys: ['a'], groupKeys: ['8a'] },
    'POST /schools/{schoolId}/breach-scope': { supplier: 'uitgever-a', from: '2024-01-01', until: '2024-12-31', studentKeys: ['a'] },
    'POST /schools/{schoolId}/breach-scope-jobs': { supplier: 'uitgever-a', from: '2024-01-01', until: '2024-12-31', studentKeys: ['a'] },
    'PUT /schools/{schoolId}/roster': { people: [rosterPerson] },
    'PATCH /schools/{schoolId}/roster': { upsert: [rosterPerson], remove: ['leerling-weg'] },
  };
  return {
    baseUrl,
    pathValue: (name, method) => (method === 'DELETE' ? absent[name] : undefined) ?? existing[name] ?? 'unknown',
    queryValue: (name) => query[name] ?? 'x',
    body: (op: Operation) => {
      const key = `${op.method} ${op.path.replace('/admin/v1', '')}`;
      if (!(key in bodies)) throw new Error(`no valid body for ${key}: add one`);
      return bodies[key];
    },
  };
}

export function defineAdminFuzzSuite(makeDb: () => Promise<TestDb>) {
  let world: World;
  let store: TestDb;
  let gateway: TestGateway;

  beforeAll(async () => {
    world = await makeWorld();
    store = await makeDb();
    gateway = await startGateway({ seed: world.seed, db: store.db, env: { OPERATOR_BOOTSTRAP_TOKEN: BOOTSTRAP, RATE_LIMIT_ADMIN_PER_MIN: '10000000' } });
  }, 60_000);
  afterAll(async () => {
    await gateway?.close();
    await store?.cleanup();
  });

  it('a URL the URL check refused is a 400 naming the field, never a 500 (issuer, loginUrl, jwksUri, redirectUris)', async () => {
    const operator = adminClient(gateway.url, BOOTSTRAP);
    const school = world.regenboog.registration();
    for (const [field, value] of [['issuer', 'not a url'], ['loginUrl', 'not a url'], ['jwksUri', 'not a url']] as const) {
      const body = field === 'jwksUri' ? { ...school, jwks: undefined, jwksUri: value } : { ...school, [field]: value };
      for (const res of [await operator.post('/schools', { ...body, id: '56EF' }), await operator.put('/schools/12AB', body)]) {
        expect(res.status).toBe(400);
        expect(res.headers.get('content-type')).toContain('application/problem+json');
        expect(res.body.errors).toContainEqual(expect.objectContaining({ field }));
      }
    }
    const client = world.seed.clients[0] as Record<string, unknown>;
    for (const res of [await operator.post('/clients', { ...client, clientId: 'fuzzapp', redirectUris: ['not a url'] }), await operator.put('/clients/rekenapp', { ...client, redirectUris: ['not a url'] })]) {
      expect(res.status).toBe(400);
      expect(res.body.errors).toContainEqual(expect.objectContaining({ field: 'redirectUris.0' }));
    }
  });

  it('text the database cannot store (NUL, a lone surrogate) in any field is a 400 naming the field', async () => {
    const operator = adminClient(gateway.url, BOOTSTRAP);
    for (const bad of ['a\u0000b', 'a\ud800b']) {
      const res = await operator.put('/schools/12AB', { ...world.regenboog.registration(), name: bad });
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([{ field: 'name', detail: 'must not contain NUL characters or unpaired surrogates' }]);
    }
  });

  it('answers every operation, each field fuzzed in turn, with 4xx problem+json or success, never 5xx', async () => {
    const doc = (await (await fetch(`${gateway.url}/admin/v1/openapi.json`)).json()) as OpenApiDocument;
    const operations = adminOperations(doc);
    expect(operations.length).toBeGreaterThanOrEqual(38);
    const licenceId = (await adminClient(gateway.url, BOOTSTRAP).get('/schools/12AB/licences')).body.items[0].id as string;
    const target = fuzzTarget(world, gateway.url, licenceId);
    const probes = operations.flatMap((op) => probesFor(op, target));
    expect(probes.length).toBeGreaterThan(2000);
    expect((await runProbes(probes, BOOTSTRAP)).slice(0, 30)).toEqual([]);
    // About 1,200 of the probes are roster imports, each a transaction on the one school's roster.
  }, 120_000);
}
