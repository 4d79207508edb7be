import { describe, expect, it } from 'vitest';
import { objectionIndex, type ObjectionTarget } from '../../src/privacy/objections.js';
import { releaseClaims } from '../../src/release/claims.js';
import { decideRelease, type ReleaseRefusal } from '../../src/release/decide.js';
import { findLicence } from '../../src/release/licence.js';
import type { Pupil } from '../../src/release/pupil.js';
import type { Client, Licence, Registry, Supplier } from '../../src/store/registry.js';
import type { ReleasableClaim } from '../../src/store/seed-schema.js';

// The release decision, rule by rule (docs/release.md). Each row names the
// rule it holds: removing any one rule from src/release/decide.ts or
// src/release/licence.ts makes at least one row fail.

const SUPPLIERS: Supplier[] = [
  { id: 'uitgever-a', name: 'Uitgever A', keyVersion: 1 },
  { id: 'uitgever-b', name: 'Uitgever B', keyVersion: 1 },
];
const client = (clientId: string, supplier: string, claims: ReleasableClaim[]): Client =>
  ({ clientId, supplier, name: clientId, redirectUris: ['https://c.example/cb'], claims });
const CLIENTS: Client[] = [
  client('rekenapp', 'uitgever-a', ['school', 'role', 'grade', 'groups']),
  client('leesapp', 'uitgever-a', ['school', 'grade']),
  client('taalapp', 'uitgever-b', ['school', 'given_name']),
  // A client whose supplier is gone (registrations changed under a pending login).
  client('weesapp', 'verdwenen', ['school']),
];

const licence = (l: Partial<Licence> & Pick<Licence, 'school' | 'client'>): Licence => ({ claims: ['school'], ...l });
const LICENCES: Licence[] = [
  // Whole school, no dates.
  licence({ school: '12AB', client: 'leesapp', claims: ['school', 'grade', 'given_name'] }),
  // Groups OR grades, with dates.
  licence({ school: '12AB', client: 'rekenapp', claims: ['school', 'grade', 'groups'], groups: ['8a'], grades: [6], validFrom: '2026-08-01', validUntil: '2027-07-31' }),
  // An expired licence before a valid one: the valid one applies.
  licence({ school: '34CD', client: 'taalapp', claims: ['school', 'given_name'], validUntil: '2025-07-31' }),
  licence({ school: '34CD', client: 'taalapp', claims: ['school'], validFrom: '2025-08-01' }),
  licence({ school: '12AB', client: 'weesapp' }),
];

const REF = 'ref-of-sanne';
/** The first form of Sanne's ref (docs/pseudonyms.md, "The transition"), computed only when an objection has that form. */
const LEGACY_REF = 'first-form-ref-of-sanne';
let legacyAsked = 0;
const REFS = { ref: REF, legacy: () => (legacyAsked++, LEGACY_REF) };
function registry(objections: ObjectionTarget[] = []): Parameters<typeof decideRelease>[0]['registry'] {
  return {
    clients: new Map(CLIENTS.map((c) => [c.clientId, c])),
    suppliers: new Map(SUPPLIERS.map((s) => [s.id, s])),
    licencesFor: (school, clientId) => LICENCES.filter((l) => l.school === school && l.client === clientId),
    objectsTo: objectionIndex(objections),
  } satisfies Pick<Registry, 'clients' | 'suppliers' | 'licencesFor' | 'objectsTo'>;
}

const pupil = (p: Partial<Pupil> = {}): Pupil => ({
  school: '12AB', studentKey: '4711', role: 'student', groups: [{ key: '8a', name: 'Groep 8A', grade: 8 }], ...p,
});
const IN_TERM = '2026-12-07';

interface Row {
  rule: string;
  clientId: string;
  pupil: Pupil;
  day?: string;
  objections?: ObjectionTarget[];
  /** The refusal, or the released claim names. */
  expect: ReleaseRefusal | ReleasableClaim[];
}

const ROWS: Row[] = [
  // The client and its supplier.
  { rule: 'an unknown client is refused', clientId: 'nobody', pupil: pupil(), expect: 'unknown_client' },
  { rule: "a client whose supplier is gone is refused", clientId: 'weesapp', pupil: pupil(), expect: 'unknown_client' },
  // The school.
  { rule: 'a whole-school licence covers any pupil of the school', clientId: 'leesapp', pupil: pupil({ groups: [] }), expect: ['school', 'grade'] },
  { rule: "another school's licence does not cover the pupil", clientId: 'leesapp', pupil: pupil({ school: '34CD' }), expect: 'no_licence' },
  // Groups OR grades.
  { rule: 'a listed group covers the pupil', clientId: 'rekenapp', pupil: pupil(), expect: ['school', 'grade', 'groups'] },
  { rule: "a listed grade of the pupil's group covers the pupil", clientId: 'rekenapp', pupil: pupil({ groups: [{ key: '6b', name: 'Groep 6B', grade: 6 }] }), expect: ['school', 'grade', 'groups'] },
  { rule: "the pupil's own grade (combination group) covers the pupil", clientId: 'rekenapp', pupil: pupil({ groups: [{ key: '5/6', name: 'Groep 5/6', grade: 5 }], grade: 6 }), expect: ['school', 'grade', 'groups'] },
  { rule: 'neither a listed group nor a listed grade: no licence', clientId: 'rekenapp', pupil: pupil({ groups: [{ key: '7a', name: 'Groep 7A', grade: 7 }] }), expect: 'no_licence' },
  { rule: 'a pupil without groups is outside a group-scoped licence', clientId: 'rekenapp', pupil: pupil({ groups: [] }), expect: 'no_licence' },
  // Roles: the scope is the same for teachers, who are in scope through their groups.
  { rule: 'a teacher of a listed group is covered', clientId: 'rekenapp', pupil: pupil({ role: 'teacher' }), expect: ['school', 'grade', 'groups'] },
  { rule: 'a teacher of no listed group is not', clientId: 'rekenapp', pupil: pupil({ role: 'teacher', groups: [{ key: '3a', name: 'Groep 3A', grade: 3 }] }), expect: 'no_licence' },
  // Dates, inclusive.
  { rule: 'before validFrom: no licence', clientId: 'rekenapp', pupil: pupil(), day: '2026-07-31', expect: 'no_licence' },
  { rule: 'on validFrom: licensed', clientId: 'rekenapp', pupil: pupil(), day: '2026-08-01', expect: ['school', 'grade', 'groups'] },
  { rule: 'on validUntil: licensed', clientId: 'rekenapp', pupil: pupil(), day: '2027-07-31', expect: ['school', 'grade', 'groups'] },
  { rule: 'after validUntil: no licence', clientId: 'rekenapp', pupil: pupil(), day: '2027-08-01', expect: 'no_licence' },
  { rule: 'an expired licence gives way to a valid one', clientId: 'taalapp', pupil: pupil({ school: '34CD' }), expect: ['school'] },
  // The client's ceiling.
  { rule: "claims outside the client's ceiling are never released", clientId: 'leesapp', pupil: pupil(), expect: ['school', 'grade'] },
  // Objections, by client and by supplier.
  { rule: 'an objection against the client stops the release', clientId: 'rekenapp', pupil: pupil(), objections: [{ studentRef: REF, client: 'rekenapp' }], expect: 'objection' },
  { rule: 'an objection against the supplier stops releases to all its clients', clientId: 'leesapp', pupil: pupil(), objections: [{ studentRef: REF, supplier: 'uitgever-a' }], expect: 'objection' },
  { rule: 'an objection against another client does not', clientId: 'leesapp', pupil: pupil(), objections: [{ studentRef: REF, client: 'rekenapp' }], expect: ['school', 'grade'] },
  { rule: 'an objection against another supplier does not', clientId: 'leesapp', pupil: pupil(), objections: [{ studentRef: REF, supplier: 'uitgever-b' }], expect: ['school', 'grade'] },
  { rule: "another pupil's objection does not", clientId: 'leesapp', pupil: pupil(), objections: [{ studentRef: 'ref-of-someone-else', client: 'leesapp' }], expect: ['school', 'grade'] },
  // The transition: an objection kept under the first form of the pupil's ref.
  { rule: 'an objection under the first form of the ref stops the release', clientId: 'rekenapp', pupil: pupil(), objections: [{ studentRef: LEGACY_REF, legacy: true, client: 'rekenapp' }], expect: 'objection' },
  { rule: 'the first form of another pupil does not', clientId: 'rekenapp', pupil: pupil(), objections: [{ studentRef: 'first-form-of-someone-else', legacy: true, client: 'rekenapp' }], expect: ['school', 'grade', 'groups'] },
  { rule: 'no licence is refused as such even with an objection', clientId: 'rekenapp', pupil: pupil({ groups: [] }), objections: [{ studentRef: REF, client: 'rekenapp' }], expect: 'no_licence' },
];

describe('decideRelease', () => {
  it.each(ROWS)('$rule', (row) => {
    const decision = decideRelease({ registry: registry(row.objections), clientId: row.clientId, pupil: row.pupil, refs: REFS, day: row.day ?? IN_TERM });
    const outcome = 'refused' in decision ? decision.refused : decision.release.claims;
    expect(outcome).toEqual(row.expect);
  });

  it('names the client, its supplier and the licence that applied', () => {
    const decision = decideRelease({ registry: registry(), clientId: 'taalapp', pupil: pupil({ school: '34CD' }), refs: REFS, day: IN_TERM });
    expect(decision).toEqual({ release: { client: CLIENTS[2], supplier: SUPPLIERS[1], licence: LICENCES[3], claims: ['school'] } });
  });

  it('computes the first form of the ref only while an objection has that form', () => {
    legacyAsked = 0;
    const question = { clientId: 'rekenapp', pupil: pupil(), refs: REFS, day: IN_TERM };
    decideRelease({ ...question, registry: registry([{ studentRef: 'ref-of-someone-else', client: 'rekenapp' }]) });
    expect(legacyAsked).toBe(0);
    decideRelease({ ...question, registry: registry([{ studentRef: 'first-form-of-someone-else', legacy: true, client: 'rekenapp' }]) });
    expect(legacyAsked).toBe(1);
  });
});

describe('findLicence', () => {
  it('returns the first licence that is valid on the day and covers the pupil', () => {
    expect(findLicence(LICENCES.filter((l) => l.school === '34CD'), pupil({ school: '34CD' }), '2025-07-31')).toBe(LICENCES[2]);
    expect(findLicence(LICENCES.filter((l) => l.school === '34CD'), pupil({ school: '34CD' }), '2025-08-01')).toBe(LICENCES[3]);
    expect(findLicence([], pupil(), IN_TERM)).toBeUndefined();
  });
});

describe('releaseClaims', () => {
  const full = pupil({
    given_name: 'Sanne', family_name: 'Jansen', tussenvoegsel: 'van', birthdate: '2014-03-02', gender: 'F',
    groups: [{ key: '8a', name: 'Groep 8A', grade: 8 }, { key: 'plus', name: 'Plusklas' }],
  });
  const group = (key: string) => `pseudonym-of-${key}`;

  it('gives each released name its value in the contract format, group keys only as pseudonyms', () => {
    expect(releaseClaims(['school', 'role', 'grade', 'groups', 'group_names', 'given_name', 'family_name', 'tussenvoegsel', 'birthdate', 'gender'], full, group)).toEqual({
      school: '12AB', role: 'student', grade: 8, groups: ['pseudonym-of-8a', 'pseudonym-of-plus'], group_names: ['Groep 8A', 'Plusklas'],
      given_name: 'Sanne', family_name: 'Jansen', tussenvoegsel: 'van', birthdate: '2014-03-02', gender: 'F',
    });
  });

  it('releases only the names asked for, and leaves out what the school did not send', () => {
    expect(releaseClaims(['school', 'given_name'], pupil(), group)).toEqual({ school: '12AB' });
    expect(releaseClaims([], full, group)).toEqual({});
  });

  it("takes the pupil's own grade over the first group's", () => {
    expect(releaseClaims(['grade', 'role'], pupil({ role: 'teacher', grade: 6 }), group)).toEqual({ grade: 6, role: 'teacher' });
  });
});
