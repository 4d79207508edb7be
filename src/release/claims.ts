import type { ReleasableClaim } from '../store/seed-schema.js';
import type { Client, Licence } from '../store/registry.js';
import { gradeOf, type Pupil } from './pupil.js';

export type ReleasedClaims = Partial<Record<ReleasableClaim, string | number | string[]>>;

/** The claim names a login releases: the licence's choice within the client's ceiling, nothing else. */
export const releasedNames = (licence: Licence, client: Client): ReleasableClaim[] =>
  licence.claims.filter((c) => client.claims.includes(c));

/**
 * The claim values for the released names. A claim the assertion did not
 * carry is left out rather than invented. Group keys never leave: only their
 * per-supplier pseudonyms do.
 */
export function releaseClaims(
  names: readonly ReleasableClaim[],
  pupil: Pupil,
  groupPseudonym: (groupKey: string) => string,
): ReleasedClaims {
  const out: ReleasedClaims = {};
  for (const name of names) {
    const value = claimValue(name, pupil, groupPseudonym);
    if (value !== undefined) out[name] = value;
  }
  return out;
}

function claimValue(name: ReleasableClaim, pupil: Pupil, groupPseudonym: (key: string) => string) {
  switch (name) {
    case 'school':
      return pupil.school;
    case 'role':
      return pupil.role;
    case 'grade':
      return gradeOf(pupil);
    case 'groups':
      return pupil.groups.map((g) => groupPseudonym(g.key));
    case 'group_names':
      return pupil.groups.map((g) => g.name);
    case 'given_name':
    case 'family_name':
    case 'tussenvoegsel':
    case 'birthdate':
    case 'gender':
      return pupil[name];
  }
}
