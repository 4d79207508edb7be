import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/store/registry.js';
import { fullLogin } from '../helpers/browser.js';
import { adminClient, type AdminClient } from '../helpers/admin.js';
import { TestClock } from '../helpers/clock.js';
import type { TestDb } from '../helpers/db.js';
import { LEES_CB, makeWorld, PUPIL, type World } from '../helpers/fixture.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { TestPublisher } from '../helpers/publisher.js';
import { codeForm, expectTokenError, expectTokens, issueCode, postToken } from '../helpers/token-userinfo-requests.js';

// The admin API through HTTP, run once per database adapter (PGlite, PostgreSQL).

export const BOOTSTRAP = 'bootstrap-token-0123456789-abcdefghijklmnopqrstuvwxyz';
const PROBLEM = 'urn:pgw:problem:';
const GEN_CB = 'https://genapp.example/cb';

export function defineAdminApiSuite(makeDb: () => Promise<TestDb>) {
  let world: World;
  let store: TestDb;
  let gateway: TestGateway;
  let operator: AdminClient;
  let schoolA: AdminClient;
  let schoolATokenId: string;
  const clock = new TestClock();

  beforeAll(async () => {
    world = await makeWorld();
    store = await makeDb();
    gateway = await startGateway({ seed: world.seed, db: store.db, clock, env: { OPERATOR_BOOTSTRAP_TOKEN: BOOTSTRAP } });
    operator = adminClient(gateway.url, BOOTSTRAP);
    const created = await operator.post('/schools/12AB/tokens', { label: 'admin 12AB' });
    expect(created.status).toBe(201);
    schoolA = adminClient(gateway.url, created.body.token);
    schoolATokenId = created.body.id;
  }, 60_000);
  afterAll(async () => {
    await gateway?.close();
    await store?.cleanup();
  });

  describe('registrations (operator)', () => {
    it('lists the imported seed, registers a supplier and a client, and never shows a client secret', async () => {
      const schools = await operator.get('/schools');
      expect(schools.status).toBe(200);
      expect(schools.body.items.map((s: { id: string }) => s.id)).toEqual(['12AB', '34CD01']);
      expect(schools.body).toMatchObject({ total: 2, limit: 50, offset: 0 });

      expect((await operator.post('/suppliers', { id: 'uitgever-c', name: 'Uitgever C', keyVersion: 2, previousKeyVersion: 1, rotationUntil: '2027-01-01T00:00:00Z' })).status).toBe(201);
      const secret = 'wereldapp-secret-0123456789-abcdefghijkl';
      const client = await operator.post('/clients', {
        clientId: 'wereldapp', supplier: 'uitgever-c', name: 'Wereldapp', redirectUris: ['https://wereld.example/cb'],
        initiateLoginUri: 'https://wereld.example/login', clientSecret: secret, claims: ['school', 'grade'],
      });
      expect(client.status).toBe(201);
      expect(client.body).toEqual({
        clientId: 'wereldapp', supplier: 'uitgever-c', name: 'Wereldapp', redirectUris: ['https://wereld.example/cb'],
        initiateLoginUri: 'https://wereld.example/login', claims: ['school', 'grade'], authMethod: 'client_secret_basic',
      });
      const read = await operator.get('/clients/wereldapp');
      expect(read.text).not.toContain(secret);
      expect(read.text).not.toContain('secretHash');
      expect(read.headers.get('cache-control')).toBe('no-store');
      const audit = await operator.get('/audit-events?limit=200');
      expect(audit.text).not.toContain(secret);
      // Not even the secret's hash is audited.
      expect(audit.text).not.toContain('secretHash');
      expect(audit.text).not.toContain(hashSecret(secret).toString('hex'));
      expect(audit.body.items.find((e: { action: string }) => e.action === 'client.create')).toMatchObject({ actor: 'bootstrap', target: 'client:wereldapp', before: null });
      // The gateway's registry has the new client: discovery-based login setup works against it.
      expect(gateway.app).toBeDefined();
    });

    it('refuses a malformed BRIN, an unknown supplier and a duplicate id, naming the field', async () => {
      const bad = await operator.post('/schools', { ...world.regenboog.registration(), id: '1234' });
      expect(bad.status).toBe(400);
      expect(bad.headers.get('content-type')).toContain('application/problem+json');
      expect(bad.body).toMatchObject({ type: `${PROBLEM}invalid_request`, status: 400, errors: [expect.objectContaining({ field: 'id' })] });

      const unknown = await operator.post('/clients', { clientId: 'losapp', supplier: 'niemand', name: 'x', redirectUris: ['https://los.example/cb'], jwks: { keys: [world.rekenKey.publicJwk] }, claims: [] });
      expect(unknown.status).toBe(422);
      expect(unknown.body).toMatchObject({ type: `${PROBLEM}unknown_reference`, errors: [{ field: 'supplier', detail: 'no such supplier' }] });

      const duplicate = await operator.post('/schools', world.regenboog.registration());
      expect(duplicate.status).toBe(409);
      expect(duplicate.body).toMatchObject({ type: `${PROBLEM}already_exists`, errors: [{ field: 'id', detail: 'is taken' }] });

      const path = await operator.get('/schools/12-AB/licences');
      expect(path.status).toBe(400);
      expect(path.body.errors[0].field).toBe('params.schoolId');
    });

    it('refuses deleting a supplier that still has clients (409) and a PUT whose id differs from the path', async () => {
      const inUse = await operator.delete('/suppliers/uitgever-a');
      expect(inUse.status).toBe(409);
      expect(inUse.body.type).toBe(`${PROBLEM}conflict`);
      const other = await operator.put('/suppliers/uitgever-b', { id: 'uitgever-x', name: 'X' });
      expect(other.status).toBe(400);
      expect(other.body.errors).toEqual([{ field: 'id', detail: 'must equal the id in the path' }]);
    });
  });

  describe('client secrets the gateway generates ("clientSecret": "generate")', () => {
    const genapp = (clientSecret: string) => ({
      clientId: 'genapp', supplier: 'uitgever-a', name: 'Genapp', redirectUris: [GEN_CB], clientSecret, claims: ['school'],
    });
    /** A token request with raw Basic credentials, as Authlib sends them; the code is genapp's own. */
    async function tokenWith(secret: string) {
      const publisher = await TestPublisher.create(gateway.url, 'genapp', GEN_CB, { secret });
      const issued = await issueCode(gateway, world.regenboog, publisher, PUPIL, clock.now());
      return postToken(`${gateway.url}/token`, codeForm(issued), { authorization: `Basic ${Buffer.from(`genapp:${secret}`).toString('base64')}` });
    }

    it('POST returns a fresh URL-safe secret once; it is never shown or audited again, and authenticates at /token', async () => {
      const created = await operator.post('/clients', genapp('generate'));
      expect(created.status).toBe(201);
      const secret = created.body.clientSecret as string;
      expect(secret).toMatch(/^pgws_[A-Za-z0-9_-]{43}$/);
      expect(created.body).toMatchObject({ clientId: 'genapp', authMethod: 'client_secret_basic' });
      const read = await operator.get('/clients/genapp');
      expect(read.body.clientSecret).toBeUndefined();
      expect(read.text).not.toContain(secret);
      expect((await operator.get('/audit-events?limit=200')).text).not.toContain(secret);
      const licence = await schoolA.post('/schools/12AB/licences', { client: 'genapp', claims: ['school'] });
      expect(licence.status).toBe(201);
      expectTokens(await tokenWith(secret));

      // A PUT asking again replaces it: the old secret stops working.
      const replaced = await operator.put('/clients/genapp', genapp('generate'));
      expect(replaced.status).toBe(200);
      const next = replaced.body.clientSecret as string;
      expect(next).toMatch(/^pgws_[A-Za-z0-9_-]{43}$/);
      expect(next).not.toBe(secret);
      expectTokenError(await tokenWith(secret), 401, 'invalid_client');
      expectTokens(await tokenWith(next));
      // A PUT with a literal secret (existing integrations) still works, and returns none.
      const literal = await operator.put('/clients/genapp', genapp('genapp-literal-secret-0123456789-abcdef'));
      expect(literal.status).toBe(200);
      expect(literal.body.clientSecret).toBeUndefined();
      // Leave the registrations as the other tests expect them.
      expect((await schoolA.delete(`/schools/12AB/licences/${licence.body.id}`)).status).toBe(204);
      expect((await operator.delete('/clients/genapp')).status).toBe(204);
    });

    it('refuses a literal secret shorter than 32 characters, naming the field and the way to ask for one', async () => {
      const short = await operator.post('/clients', { ...genapp('too-short'), clientId: 'shortapp' });
      expect(short.status).toBe(400);
      expect(short.body.errors).toEqual([{ field: 'clientSecret', detail: expect.stringContaining('"generate"') }]);
    });
  });

  describe('licences (school admin)', () => {
    it('creates, lists with stable pagination, changes and deletes its own licences, each audited', async () => {
      const created = [];
      for (const [i, from] of ['2030-01-01', '2031-01-01', '2032-01-01'].entries()) {
        const res = await schoolA.post('/schools/12AB/licences', { client: 'wereldapp', claims: ['school'], grades: [i + 3], validFrom: from, validUntil: from.replace('-01-01', '-12-31') });
        expect(res.status).toBe(201);
        created.push(res.body.id as string);
      }
      const all = await schoolA.get('/schools/12AB/licences?limit=200');
      const paged: string[] = [];
      for (let offset = 0; offset < all.body.total; offset += 2) {
        const page = await schoolA.get(`/schools/12AB/licences?limit=2&offset=${offset}`);
        expect(page.body.items.length).toBeLessThanOrEqual(2);
        paged.push(...page.body.items.map((l: { id: string }) => l.id));
      }
      expect(paged).toEqual(all.body.items.map((l: { id: string }) => l.id));
      expect(all.body.total).toBe(all.body.items.length);
      expect(all.body.items.map((l: { id: string }) => l.id)).toEqual(expect.arrayContaining(created));

      const changed = await schoolA.put(`/schools/12AB/licences/${created[0]}`, { client: 'wereldapp', claims: ['school', 'grade'], validFrom: '2030-01-01', validUntil: '2030-06-30' });
      expect(changed.status).toBe(200);
      expect(changed.body).toMatchObject({ id: created[0], school: '12AB', claims: ['school', 'grade'], validUntil: '2030-06-30' });
      expect((await schoolA.delete(`/schools/12AB/licences/${created[1]}`)).status).toBe(204);
      expect((await schoolA.get(`/schools/12AB/licences/${created[1]}`)).status).toBe(404);

      const audit = await schoolA.get('/schools/12AB/audit-events?limit=200');
      const mine = audit.body.items.filter((e: { actor: string }) => e.actor === schoolATokenId);
      expect(mine.map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(['licence.create', 'licence.update', 'licence.delete']));
      const update = mine.find((e: { action: string }) => e.action === 'licence.update');
      expect(update.before.claims).toEqual(['school']);
      expect(update.after.claims).toEqual(['school', 'grade']);
      // A school admin's audit list holds its own school's events only.
      expect(audit.body.items.every((e: { school: string }) => e.school === '12AB')).toBe(true);
      for (const id of [created[0], created[2]]) expect((await schoolA.delete(`/schools/12AB/licences/${id}`)).status).toBe(204);
    });

    it('refuses claims outside the ceiling, an unknown client, overlapping validity and a reversed period, naming the field', async () => {
      const outside = await schoolA.post('/schools/12AB/licences', { client: 'leesapp', claims: ['given_name'], validFrom: '2040-01-01' });
      expect(outside.status).toBe(422);
      expect(outside.body).toMatchObject({ type: `${PROBLEM}claims_outside_ceiling`, errors: [{ field: 'claims' }] });

      const unknown = await schoolA.post('/schools/12AB/licences', { client: 'geenapp', claims: [] });
      expect(unknown.status).toBe(422);
      expect(unknown.body).toMatchObject({ type: `${PROBLEM}unknown_reference`, errors: [{ field: 'client' }] });

      // The seed's leesapp licence at 12AB has no dates: every period overlaps it.
      const overlap = await schoolA.post('/schools/12AB/licences', { client: 'leesapp', claims: ['grade'], validFrom: '2040-01-01', validUntil: '2040-12-31' });
      expect(overlap.status).toBe(409);
      expect(overlap.body).toMatchObject({ type: `${PROBLEM}overlapping_validity`, errors: [{ field: 'validFrom' }] });

      const reversed = await schoolA.post('/schools/12AB/licences', { client: 'rekenapp', claims: [], validFrom: '2041-01-02', validUntil: '2041-01-01' });
      expect(reversed.status).toBe(400);
      expect(reversed.body.errors).toEqual([expect.objectContaining({ field: 'validUntil' })]);

      const extra = await schoolA.post('/schools/12AB/licences', { client: 'rekenapp', claims: [], school: '34CD01' });
      expect(extra.status).toBe(400);
      const listed = await schoolA.get('/schools/12AB/licences?limit=200');
      expect(listed.body.total).toBe(3);
    });

    it('changes the next login: a licence changed through the API changes the released claims', async () => {
      const lees = await TestPublisher.create(gateway.url, 'leesapp', LEES_CB, { key: world.leesKey });
      const before = await fullLogin(gateway, world.regenboog, lees, PUPIL);
      expect(before.claims.grade).toBe(8);
      expect(before.claims.school).toBeUndefined();
      const list = await schoolA.get('/schools/12AB/licences?limit=200');
      const licence = list.body.items.find((l: { client: string }) => l.client === 'leesapp');
      expect((await schoolA.put(`/schools/12AB/licences/${licence.id}`, { client: 'leesapp', claims: ['school', 'grade'] })).status).toBe(200);
      const after = await fullLogin(gateway, world.regenboog, lees, PUPIL);
      expect(after.claims.school).toBe('12AB');
      expect(after.claims.grade).toBe(8);
    });
  });

  describe('tokens', () => {
    it('shows a token once, stores it hashed, refuses it once revoked or expired, and refuses a bad or missing one', async () => {
      const created = await operator.post('/schools/34CD01/tokens', { label: 'klimop', expiresInDays: 1 });
      expect(created.status).toBe(201);
      expect(created.body.token).toMatch(/^pgwa_[A-Za-z0-9_-]{43}$/);
      const klimop = adminClient(gateway.url, created.body.token);
      expect((await klimop.get('/schools/34CD01/licences')).status).toBe(200);
      const listed = await operator.get('/schools/34CD01/tokens');
      expect(listed.text).not.toContain(created.body.token);
      expect(listed.body.items).toEqual([expect.objectContaining({ id: created.body.id, school: '34CD01', revokedAt: null })]);
      const stored = await store.db.query<{ hash: Buffer }>('SELECT hash FROM admin_tokens WHERE id = $1', [created.body.id]);
      expect(Buffer.from(stored[0]!.hash).toString('hex')).not.toContain(Buffer.from(created.body.token).toString('hex'));
      expect(JSON.stringify((await operator.get('/audit-events?limit=200')).body)).not.toContain(created.body.token);

      clock.advance(86_400_000 + 1000);
      const expired = await klimop.get('/schools/34CD01/licences');
      clock.advance(-(86_400_000 + 1000));
      expect(expired.status).toBe(401);
      expect(expired.headers.get('www-authenticate')).toBe('Bearer realm="admin"');
      expect(expired.body).toEqual({ type: `${PROBLEM}unauthorized`, title: 'A valid admin bearer token is required', status: 401 });

      expect((await operator.delete(`/schools/34CD01/tokens/${created.body.id}`)).status).toBe(204);
      const revoked = await klimop.get('/schools/34CD01/licences');
      expect(revoked.status).toBe(401);
      expect(revoked.body).toEqual(expired.body);
      expect((await adminClient(gateway.url, null).get('/schools/34CD01/licences')).body).toEqual(expired.body);
      expect((await adminClient(gateway.url, 'pgwa_not-a-token').get('/schools/34CD01/licences')).status).toBe(401);
    });

    it('creates operator tokens that work like the bootstrap token, and refuses school tokens on operator routes (403)', async () => {
      const created = await operator.post('/operator-tokens', { label: 'automation' });
      expect(created.status).toBe(201);
      const op = adminClient(gateway.url, created.body.token);
      expect((await op.get('/schools')).status).toBe(200);
      const forbidden = await schoolA.get('/schools');
      expect(forbidden.status).toBe(403);
      expect(forbidden.body.type).toBe(`${PROBLEM}forbidden`);
    });
  });

  it('publishes an OpenAPI document of every admin route', async () => {
    const doc = await adminClient(gateway.url, null).get('/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/admin/v1/schools/{schoolId}/licences', '/admin/v1/clients/{clientId}', '/admin/v1/audit-events']));
    expect(doc.body.paths['/admin/v1/schools/{schoolId}/licences'].post.requestBody).toBeDefined();
  });
}
