import { PageError } from '../errors.js';
import { pupilKey, type Pupil } from '../release/pupil.js';
import type { IdentifierKind, RosterLookup } from '../roster/lookup.js';
import { pupilFromRoster } from '../roster/person.js';
import type { School } from '../store/registry.js';

// The person an upstream identity provider (OpenID Connect, SAML) vouched
// for, joined with the school's roster (docs/school-login.md, "The roster at
// login"). One home for the join, whatever the method: the method's edge
// verifies the upstream answer and checks its tenant restriction, then calls
// personAtSchool for the verified person it hands to completeLogin.

/** What a verified upstream answer says about the person. */
export interface UpstreamIdentity {
  /** The value of the school's identity claim or attribute (never logged). */
  readonly identifier: string;
  /** How the identifier compares with the roster's logins: exactly, or case-insensitively for e-mail and user names. */
  readonly kind: IdentifierKind;
  /** The role the upstream's own mapping gives, used only for a person not taken from the roster. */
  readonly role: Pupil['role'];
  /** What the upstream itself carries; the roster's attributes win where the person is on it. */
  readonly attributes?: Partial<Pick<Pupil, 'given_name' | 'family_name' | 'tussenvoegsel' | 'birthdate' | 'gender' | 'grade'>>;
}

export interface UpstreamPersonDeps {
  readonly roster: Pick<RosterLookup, 'findRosterPerson' | 'countUnmatchedLogin'>;
}

const notOnRoster = () => new PageError('not_on_roster', 403, 'The person is not on the school roster');

/**
 * The verified person for this school: from the roster (`required`, or
 * `optional` when found), else with the upstream identifier as pupil key.
 * A person the roster must know and does not is refused, and counted for the
 * school without the identifier.
 */
export async function personAtSchool(deps: UpstreamPersonDeps, school: School, upstream: UpstreamIdentity): Promise<Pupil> {
  if (school.roster !== 'none') {
    const person = await deps.roster.findRosterPerson(school.id, upstream.kind, upstream.identifier);
    if (person) return pupilFromRoster(school.id, person);
    if (school.roster === 'required') {
      await deps.roster.countUnmatchedLogin(school.id);
      throw notOnRoster();
    }
  }
  const key = pupilKey.safeParse(upstream.identifier);
  // An identifier that cannot be a pupil key (empty, too long, control characters) is not a login.
  if (!key.success) throw new PageError('upstream_invalid', 400, 'The school login did not identify the person', 'identifier is not a valid pupil key');
  return { school: school.id, studentKey: key.data, role: upstream.role, groups: [], ...definedOnly(upstream.attributes ?? {}) };
}

const definedOnly = <T extends object>(attributes: T): Partial<T> =>
  Object.fromEntries(Object.entries(attributes).filter(([, v]) => v !== undefined)) as Partial<T>;
