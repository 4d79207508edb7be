import type { PupilRefs } from '../crypto/pseudonym.js';
import type { Client, Licence, Registry, Supplier } from '../store/registry.js';
import type { ReleasableClaim } from '../store/seed-schema.js';
import { releasedNames } from './claims.js';
import { findLicence } from './licence.js';
import type { Pupil } from './pupil.js';

// The release decision, the one question a privacy officer asks of every
// login: may this pupil's data go to this client today, and which of it?
// Pure: the registry snapshot, the client, the verified pupil and the day in,
// a release or a typed refusal out. Every way a pupil arrives asks it here
// (docs/release.md states the rules; test/unit/decide.test.ts holds them).
//
// In order:
// 1. the client is registered, and so is its supplier;
// 2. a licence of the pupil's school for that client is valid on the day and
//    covers the pupil (whole school, or one of their groups, or one of their
//    grades);
// 3. no parent's objection stops releases to that client or its supplier;
// 4. the released claims are the licence's choice within the client's ceiling.

export type ReleaseRefusal = 'unknown_client' | 'no_licence' | 'objection';

export interface Release {
  readonly client: Client;
  readonly supplier: Supplier;
  readonly licence: Licence;
  readonly claims: readonly ReleasableClaim[];
}

export type ReleaseDecision = { readonly release: Release } | { readonly refused: ReleaseRefusal };

export interface ReleaseQuestion {
  readonly registry: Pick<Registry, 'clients' | 'suppliers' | 'licencesFor' | 'objectsTo'>;
  readonly clientId: string;
  readonly pupil: Pupil;
  /** How durable records name the pupil (docs/pseudonyms.md): objections are kept under it (or its first form). */
  readonly refs: PupilRefs;
  /** The Dutch calendar day, YYYY-MM-DD (licence dates are days where the schools are). */
  readonly day: string;
}

const refused = (why: ReleaseRefusal): ReleaseDecision => ({ refused: why });

export function decideRelease({ registry, clientId, pupil, refs, day }: ReleaseQuestion): ReleaseDecision {
  const client = registry.clients.get(clientId);
  const supplier = client && registry.suppliers.get(client.supplier);
  if (!client || !supplier) return refused('unknown_client');
  const licence = findLicence(registry.licencesFor(pupil.school, client.clientId), pupil, day);
  if (!licence) return refused('no_licence');
  if (registry.objectsTo(refs, client.clientId, supplier.id)) return refused('objection');
  return { release: { client, supplier, licence, claims: releasedNames(licence, client) } };
}
