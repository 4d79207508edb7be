import type { RosterKeys } from '../crypto/key-schedule.js';
import { asRosterPerson, canonicalPerson, personSchema, type RosterPerson } from './person.js';
import { ProblemList, RosterRefused, yieldToLoop, type RowProblem } from './problems.js';
import type { PreparedPerson } from './roster-write.js';
import { keyHash } from './seal.js';

// One validation for every format (docs/roster.md, "Bad rows"): a parser turns
// its rows into candidates in the JSON person shape, each with where it came
// from and what its source calls each field; this checks every candidate and
// the rules across rows, and lists every problem before anything is written.

/** The most people one roster may hold. */
export const MAX_PEOPLE = 100_000;

export interface Where {
  file: string;
  line?: number;
  index?: number;
}

export interface Candidate {
  where: Where;
  /** The source's name for a field of the person shape (its first path segment); absent: the path itself. */
  fieldName: (path: readonly PropertyKey[]) => string;
  input: unknown;
}

const SLICE = 1_000;

const at = (where: Where, field: string, detail: string): RowProblem => ({ ...where, field, detail });

/** Each candidate against the person shape; the valid ones, with where they came from. */
async function checkEach(candidates: readonly Candidate[], problems: ProblemList): Promise<{ person: RosterPerson; from: Candidate }[]> {
  const valid: { person: RosterPerson; from: Candidate }[] = [];
  for (let i = 0; i < candidates.length; i++) {
    if (i % SLICE === SLICE - 1) await yieldToLoop();
    const candidate = candidates[i]!;
    const parsed = personSchema.safeParse(candidate.input);
    if (parsed.success) valid.push({ person: asRosterPerson(parsed.data), from: candidate });
    else for (const issue of parsed.error.issues) problems.add(at(candidate.where, candidate.fieldName(issue.path), issue.message));
  }
  return valid;
}

const describe = (w: Where): string => (w.line !== undefined ? `line ${w.line}` : w.index !== undefined ? `index ${w.index}` : w.file);

/** No pupil key twice; no login twice (compared case-insensitively, as e-mail logins are looked up). */
function checkAcross(valid: readonly { person: RosterPerson; from: Candidate }[], problems: ProblemList): void {
  const keys = new Map<string, Where>();
  const logins = new Map<string, Where>();
  for (const { person, from } of valid) {
    const first = keys.get(person.studentKey);
    if (first) problems.add(at(from.where, from.fieldName(['studentKey']), `the same pupil key as ${describe(first)}`));
    else keys.set(person.studentKey, from.where);
    person.logins.forEach((login, i) => {
      const folded = login.toLowerCase();
      const holder = logins.get(folded);
      if (holder && holder !== from.where) problems.add(at(from.where, from.fieldName(['logins', i]), `the same login as ${describe(holder)}`));
      else logins.set(folded, from.where);
    });
  }
}

/** Every candidate checked; throws RosterRefused listing every problem, else the people in input order. */
export async function validatePeople(candidates: readonly Candidate[], extra: ProblemList = new ProblemList()): Promise<RosterPerson[]> {
  const problems = extra;
  if (candidates.length > MAX_PEOPLE) problems.add({ file: candidates[0]!.where.file, field: '(file)', detail: `more than ${MAX_PEOPLE} people` });
  const valid = await checkEach(candidates, problems);
  checkAcross(valid, problems);
  if (!problems.empty) throw RosterRefused.of(problems);
  return valid.map((v) => v.person);
}

/** Each person's key hash and canonical form (slices, so logins go on meanwhile); sealing waits until a person is written. */
export async function preparePeople(keys: RosterKeys, people: readonly RosterPerson[]): Promise<PreparedPerson[]> {
  const out: PreparedPerson[] = [];
  for (let i = 0; i < people.length; i++) {
    if (i % SLICE === SLICE - 1) await yieldToLoop();
    const person = people[i]!;
    out.push({ keyHash: keyHash(keys, person.studentKey).toString('hex'), canonical: canonicalPerson(person), person });
  }
  return out;
}
