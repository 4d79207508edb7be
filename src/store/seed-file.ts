import { readFile } from 'node:fs/promises';
import type { ClientReg, Seed } from './seed-schema.js';
import { seedSchema } from './seed-schema.js';

// The seed file (docs/registrations.md): parsed, checked for cross-references,
// every problem listed together.

/** A client as stored: the secret replaced by its SHA-256 (hex), never kept itself. */
export type StoredClient = Omit<ClientReg, 'clientSecret'> & { clientSecret?: string; secretHash?: string };

/** Registrations as the database holds them (a seed whose client secrets are hashed). */
export type StoredSeed = Omit<Seed, 'clients'> & { clients: StoredClient[] };

export class SeedError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid seed file:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'SeedError';
  }
}

/** Every cross-reference problem of a schema-valid seed, in one list. */
export function seedProblems(seed: Seed | StoredSeed): string[] {
  const problems: string[] = [];
  const duplicates = (label: string, ids: string[]) => {
    const seen = new Set<string>();
    for (const id of ids) {
      if (seen.has(id)) problems.push(`${label}: duplicate id ${JSON.stringify(id)}`);
      seen.add(id);
    }
  };
  duplicates('schools', seed.schools.map((s) => s.id));
  duplicates('suppliers', seed.suppliers.map((s) => s.id));
  duplicates('clients', seed.clients.map((c) => c.clientId));

  const suppliers = new Set(seed.suppliers.map((s) => s.id));
  const schools = new Set(seed.schools.map((s) => s.id));
  const clients = new Map(seed.clients.map((c) => [c.clientId, c]));
  seed.clients.forEach((c, i) => {
    if (!suppliers.has(c.supplier)) problems.push(`clients.${i}.supplier: unknown supplier ${JSON.stringify(c.supplier)}`);
  });
  seed.licences.forEach((l, i) => {
    if (!schools.has(l.school)) problems.push(`licences.${i}.school: unknown school ${JSON.stringify(l.school)}`);
    const client = clients.get(l.client);
    if (!client) {
      problems.push(`licences.${i}.client: unknown client ${JSON.stringify(l.client)}`);
      return;
    }
    const outside = l.claims.filter((c) => !client.claims.includes(c));
    if (outside.length) {
      problems.push(`licences.${i}.claims: ${outside.join(', ')} outside the client's claims (${client.claims.join(', ') || 'none'})`);
    }
  });
  return problems;
}

/** Parse and check a seed document; throws SeedError listing every problem. */
export function parseSeed(document: unknown): Seed {
  const parsed = seedSchema.safeParse(document);
  if (!parsed.success) {
    throw new SeedError(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  const problems = seedProblems(parsed.data);
  if (problems.length) throw new SeedError(problems);
  return parsed.data;
}

export async function loadSeedFile(path: string): Promise<Seed> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new SeedError([`${path}: cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (err) {
    throw new SeedError([`${path}: not valid JSON (${(err as Error).message})`]);
  }
  return parseSeed(document);
}

export const emptySeed = (): Seed => ({ schools: [], suppliers: [], clients: [], licences: [] });
