import { readFile } from 'node:fs/promises';
import { ProblemsError } from '../errors.js';
import type { ClientReg, Seed } from './seed-schema.js';
import { seedSchema } from './seed-schema.js';

// The seed file (docs/registrations.md): parsed, checked for cross-references,
// every problem listed together.

/** A client as stored: the secret replaced by its SHA-256 (hex), never kept itself. */
export type StoredClient = Omit<ClientReg, 'clientSecret'> & { clientSecret?: string; secretHash?: string };

/** Registrations as the database holds them (a seed whose client secrets are hashed). */
export type StoredSeed = Omit<Seed, 'clients'> & { clients: StoredClient[] };

export class SeedError extends ProblemsError {
  constructor(problems: string[]) {
    super('seed file', problems);
    this.name = 'SeedError';
  }
}

/** What the cross-reference checks read of a seed: ids and claims, each possibly missing or mistyped in a document that failed its schema. */
interface SeedRefs {
  readonly schools: readonly { readonly id?: unknown }[];
  readonly suppliers: readonly { readonly id?: unknown }[];
  readonly clients: readonly { readonly clientId?: unknown; readonly supplier?: unknown; readonly claims?: unknown }[];
  readonly licences: readonly { readonly school?: unknown; readonly client?: unknown; readonly claims?: unknown }[];
}

/** The parts of any document the reference checks can read: arrays of objects, anything else left out at its index. */
function refsOf(document: unknown): SeedRefs {
  const doc = (document !== null && typeof document === 'object' ? document : {}) as Record<string, unknown>;
  const list = (key: string) => (Array.isArray(doc[key]) ? doc[key] : []).map((e: unknown) => (e !== null && typeof e === 'object' ? e : {}));
  return { schools: list('schools'), suppliers: list('suppliers'), clients: list('clients'), licences: list('licences') };
}

const strings = (value: unknown): string[] | undefined =>
  Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : undefined;

/** Every cross-reference problem of a seed, in one list; on a document that failed its schema, of whatever can be read. */
export function seedProblems(seed: SeedRefs): string[] {
  const problems: string[] = [];
  const ids = (values: readonly unknown[]) => values.filter((v): v is string => typeof v === 'string');
  const duplicates = (label: string, list: string[]) => {
    const seen = new Set<string>();
    for (const id of list) {
      if (seen.has(id)) problems.push(`${label}: duplicate id ${JSON.stringify(id)}`);
      seen.add(id);
    }
  };
  duplicates('schools', ids(seed.schools.map((s) => s.id)));
  duplicates('suppliers', ids(seed.suppliers.map((s) => s.id)));
  duplicates('clients', ids(seed.clients.map((c) => c.clientId)));

  const suppliers = new Set(ids(seed.suppliers.map((s) => s.id)));
  const schools = new Set(ids(seed.schools.map((s) => s.id)));
  const clients = new Map(seed.clients.flatMap((c) => (typeof c.clientId === 'string' ? [[c.clientId, c] as const] : [])));
  seed.clients.forEach((c, i) => {
    if (typeof c.supplier === 'string' && !suppliers.has(c.supplier)) problems.push(`clients.${i}.supplier: unknown supplier ${JSON.stringify(c.supplier)}`);
  });
  seed.licences.forEach((l, i) => {
    if (typeof l.school === 'string' && !schools.has(l.school)) problems.push(`licences.${i}.school: unknown school ${JSON.stringify(l.school)}`);
    if (typeof l.client !== 'string') return;
    const client = clients.get(l.client);
    if (!client) {
      problems.push(`licences.${i}.client: unknown client ${JSON.stringify(l.client)}`);
      return;
    }
    const ceiling = strings(client.claims);
    const asked = strings(l.claims);
    if (!ceiling || !asked) return;
    const outside = asked.filter((c) => !ceiling.includes(c));
    if (outside.length) {
      problems.push(`licences.${i}.claims: ${outside.join(', ')} outside the client's claims (${ceiling.join(', ') || 'none'})`);
    }
  });
  return problems;
}

/** Parse and check a seed document; throws SeedError listing every problem, format and references together. */
export function parseSeed(document: unknown): Seed {
  const parsed = seedSchema.safeParse(document);
  const problems = [
    ...(parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)),
    ...seedProblems(parsed.success ? parsed.data : refsOf(document)),
  ];
  if (!parsed.success || problems.length) throw new SeedError(problems);
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
