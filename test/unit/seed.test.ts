import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildRegistry } from '../../src/store/registry.js';
import { loadSeedFile, parseSeed, SeedError } from '../../src/store/seed-file.js';
import { makeWorld } from '../helpers/fixture.js';

function problemsOf(document: unknown): string[] {
  try {
    parseSeed(document);
  } catch (err) {
    if (err instanceof SeedError) return err.problems;
    throw err;
  }
  return [];
}

describe('seed file', () => {
  it('accepts the fixture world and the shipped example', async () => {
    const world = await makeWorld();
    const registry = buildRegistry(parseSeed(world.seed));
    expect([...registry.schools.keys()]).toEqual(['12AB', '34CD01']);
    expect(registry.licencesFor('12AB', 'rekenapp')).toHaveLength(1);
    expect(registry.clients.get('taalapp')?.secretHash).toHaveLength(32);
    expect(JSON.stringify([...registry.clients.values()])).not.toContain(world.taalSecret);
    await expect(loadSeedFile('config/seed.example.json')).resolves.toMatchObject({ schools: [{ id: '12AB' }] });
  });

  it('lists every schema problem together, each naming its field', () => {
    const problems = problemsOf({
      schools: [{ id: '12ab', name: 'x', issuer: 'http://idp.example', loginUrl: 'https://idp.example/login#f' }],
      suppliers: [{ id: 'A', name: 'x' }],
      clients: [{ clientId: 'c1', supplier: 'sup', name: 'x', redirectUris: ['https://c.example/cb?code=1'], claims: ['email'] }],
      licences: [{ school: '12AB', client: 'c1', claims: [], validFrom: '2027-01-01', validUntil: '2026-01-01' }],
      extra: true,
    });
    const text = problems.join('\n');
    for (const field of ['schools.0.id', 'schools.0.issuer', 'schools.0.loginUrl', 'schools.0.jwks', 'suppliers.0.id', 'clients.0.redirectUris.0', 'clients.0.claims.0', 'clients.0.jwks', 'licences.0.validUntil', 'extra']) {
      expect(text).toContain(field);
    }
  });

  it('lists reference problems together with format problems, read from whatever parsed', async () => {
    const world = await makeWorld();
    const seed = structuredClone(world.seed) as { schools: Record<string, unknown>[]; licences: Record<string, unknown>[] };
    seed.schools[0]!.loginUrl = 'not a url';
    seed.licences.push({ school: '99ZZ', client: 'ghost', claims: [] }, 'not a licence' as never);
    const text = problemsOf(seed).join('\n');
    expect(text).toContain('schools.0.loginUrl');
    expect(text).toContain('unknown school "99ZZ"');
    expect(text).toContain('unknown client "ghost"');
  });

  it('lists cross-reference problems: unknown supplier, school, client, claims outside the ceiling, duplicates, weak RSA keys', async () => {
    const world = await makeWorld();
    const seed = structuredClone(world.seed) as { schools: object[]; suppliers: object[]; clients: Record<string, unknown>[]; licences: Record<string, unknown>[] };
    seed.schools.push(seed.schools[0]!);
    seed.clients[1]!.supplier = 'nobody';
    seed.licences.push({ school: '99ZZ', client: 'ghost', claims: [] }, { school: '12AB', client: 'leesapp', claims: ['given_name'] });
    const text = problemsOf(seed).join('\n');
    expect(text).toContain('schools: duplicate id "12AB"');
    expect(text).toContain('clients.1.supplier: unknown supplier "nobody"');
    expect(text).toContain('unknown school "99ZZ"');
    expect(text).toContain('unknown client "ghost"');
    expect(text).toContain('given_name outside the client');

    const weak = structuredClone(world.seed) as { schools: Record<string, unknown>[] };
    weak.schools[0]!.jwks = { keys: [{ kty: 'RSA', kid: 'w', n: Buffer.alloc(128, 1).toString('base64url'), e: 'AQAB' }] };
    expect(problemsOf(weak).join('\n')).toContain('2048 bits');
  });

  it('reports entries of the wrong type instead of crashing', () => {
    expect(problemsOf({ schools: [null], clients: [5, 'x'] })).toEqual([
      'schools.0: Invalid input: expected object, received null',
      'clients.0: Invalid input: expected object, received number',
      'clients.1: Invalid input: expected object, received string',
    ]);
    expect(problemsOf(null)).toEqual(['(root): Invalid input: expected object, received null']);
  });

  it('reports an unreadable or non-JSON file as a problem, not a crash', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'seed-'));
    await writeFile(join(dir, 'bad.json'), '{ nope');
    await expect(loadSeedFile(join(dir, 'bad.json'))).rejects.toThrow(/not valid JSON/);
    await expect(loadSeedFile(join(dir, 'missing.json'))).rejects.toThrow(/cannot be read \(ENOENT\)/);
  });
});
