import { z } from 'zod';
import { CONTROL, pupilKey, type Pupil } from '../release/pupil.js';

// A person on a school's roster (docs/roster.md): the pupil key, the upstream
// login identifiers, and the attributes a school login assertion carries, with
// the same names and formats. What the three import formats all map to.

const text = (max: number) => z.string().min(1).max(max).refine((s) => !CONTROL.test(s), { message: 'no control characters' });
const grade = z.number().int().min(1).max(15);

/** The most login identifiers one person may have (user name, e-mail address, directory ids). */
export const MAX_LOGINS = 10;

export const groupSchema = z.strictObject({ key: pupilKey, name: text(200), grade: grade.optional() });

export const personSchema = z.strictObject({
  studentKey: pupilKey,
  logins: z.array(text(256).transform((s) => s.normalize('NFC'))).max(MAX_LOGINS).default([]),
  role: z.enum(['student', 'teacher']),
  given_name: text(200).optional(),
  tussenvoegsel: text(50).optional(),
  family_name: text(200).optional(),
  birthdate: z.iso.date().optional(),
  gender: text(32).optional(),
  groups: z.array(groupSchema).max(50).default([]),
  grade: grade.optional(),
});

/** A person in an answer (the access request): the same fields, no transforms (responses are encoded). */
export const personView = z.object({
  studentKey: z.string(), logins: z.array(z.string()).readonly(), role: z.enum(['student', 'teacher']),
  given_name: z.string().optional(), tussenvoegsel: z.string().optional(), family_name: z.string().optional(),
  birthdate: z.string().optional(), gender: z.string().optional(),
  groups: z.array(z.object({ key: z.string(), name: z.string(), grade: z.number().int().optional() })).readonly(), grade: z.number().int().optional(),
});

/** A person as stored and as the login reads it: a verified pupil's attributes (release/pupil.ts) and the logins. */
export interface RosterPerson extends Omit<Pupil, 'school'> {
  readonly logins: readonly string[];
}

/**
 * The schema's output with absent fields absent (zod never writes a key it
 * did not read), so it is a RosterPerson under exactOptionalPropertyTypes.
 */
export const asRosterPerson = (parsed: z.output<typeof personSchema>): RosterPerson => parsed as RosterPerson;

/** The fields of a person in the order the canonical form writes them. */
const FIELDS = ['studentKey', 'logins', 'role', 'given_name', 'tussenvoegsel', 'family_name', 'birthdate', 'gender', 'groups', 'grade'] as const;

/** One JSON text per person whatever the source's field order: what is sealed, and what "unchanged" compares. */
export function canonicalPerson(person: RosterPerson): string {
  const out: Record<string, unknown> = {};
  for (const field of FIELDS) {
    const value = person[field];
    if (value === undefined) continue;
    out[field] = field === 'groups' ? person.groups.map((g) => (g.grade === undefined ? { key: g.key, name: g.name } : { key: g.key, name: g.name, grade: g.grade })) : value;
  }
  return JSON.stringify(out);
}

/** The verified person a login hands on (release/pupil.ts): the roster's attributes, without the login identifiers. */
export function pupilFromRoster(school: string, person: RosterPerson): Pupil {
  const { logins: _logins, ...attributes } = person;
  return { school, ...attributes };
}
