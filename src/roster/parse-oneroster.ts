import { z } from 'zod';
import type { ParsedRoster } from './imports.js';
import { isActive, listOf, readCsv, requireColumns, valueOf, type CsvFile, type CsvRow } from './oneroster-csv.js';
import { classesAt, dutchGrade, enrollmentsAt, type ClassGroup } from './oneroster-groups.js';
import { readManifest, rolesAt, schoolOrg, ONEROSTER_FILES, type Role } from './oneroster-school.js';
import { readZipFiles } from './oneroster-zip.js';
import { ProblemList } from './problems.js';
import type { Candidate } from './validate.js';

// A OneRoster 1.2 CSV bulk zip to roster people (docs/roster.md, "OneRoster"):
// the users with a student or teacher role at this school. sourcedId is the
// pupil key; preferredGivenName (else givenName), middleName (as the
// tussenvoegsel) and familyName the names; username, email and the userIds
// the logins; birthDate and sex from demographics.csv; grades the grade.

const FIELD_NAMES: Record<string, string> = {
  studentKey: 'sourcedId', role: 'role', given_name: 'givenName', tussenvoegsel: 'middleName', family_name: 'familyName',
  birthdate: 'demographics.csv birthDate', gender: 'demographics.csv sex', groups: 'classes.csv title', grade: 'grades',
};
const SEXES = new Set(['male', 'female', 'unspecified', 'other']);
const USER_ID = /^\{[^:{}]+:([^{}]+)\}$/;

interface Demographic {
  birthdate?: string;
  gender?: string;
}

function demographicsOf(file: CsvFile | undefined, problems: ProblemList): Map<string, Demographic> {
  const out = new Map<string, Demographic>();
  if (!file) return out;
  requireColumns(file, ['sourcedId']);
  for (const row of file.rows) {
    const id = valueOf(row, 'sourcedId');
    if (!id || !isActive(row)) continue;
    const birthdate = valueOf(row, 'birthDate');
    const sex = valueOf(row, 'sex');
    const where = { file: file.name, line: row.line };
    const goodDate = birthdate !== undefined && z.iso.date().safeParse(birthdate).success;
    const goodSex = sex !== undefined && SEXES.has(sex);
    if (birthdate !== undefined && !goodDate) problems.add({ ...where, field: 'birthDate', detail: 'must be a date YYYY-MM-DD' });
    if (sex !== undefined && !goodSex) problems.add({ ...where, field: 'sex', detail: 'must be male, female, unspecified or other' });
    // A bad value is reported here, at its own line, and left out of the person.
    out.set(id, { ...(goodDate ? { birthdate } : {}), ...(goodSex ? { gender: sex } : {}) });
  }
  return out;
}

/** username, email, then every userIds identifier ("{type:identifier}"), each once. */
function loginsOf(row: CsvRow, file: string, problems: ProblemList): { logins: string[]; sources: string[] } {
  const found: [string, string][] = [];
  for (const column of ['username', 'email'] as const) {
    const v = valueOf(row, column);
    if (v !== undefined) found.push([v, column]);
  }
  for (const entry of listOf(row, 'userIds')) {
    const m = USER_ID.exec(entry);
    if (m) found.push([m[1]!.trim(), 'userIds']);
    else problems.add({ file, line: row.line, field: 'userIds', detail: 'each entry must be {type:identifier}' });
  }
  const seen = new Set<string>();
  const kept = found.filter(([v]) => !seen.has(v) && seen.add(v));
  return { logins: kept.map(([v]) => v), sources: kept.map(([, s]) => s) };
}

function candidateOf(row: CsvRow, file: string, role: Role, groups: ClassGroup[], demographic: Demographic | undefined, problems: ProblemList): Candidate {
  const { logins, sources } = loginsOf(row, file, problems);
  const grade = listOf(row, 'grades').map(dutchGrade).find((g) => g !== undefined);
  const input = {
    studentKey: valueOf(row, 'sourcedId'), logins, role,
    given_name: valueOf(row, 'preferredGivenName') ?? valueOf(row, 'givenName'),
    tussenvoegsel: valueOf(row, 'middleName'),
    family_name: valueOf(row, 'familyName'),
    ...demographic,
    groups: groups.map((g) => ({ key: g.key, name: g.name, ...(g.grade === undefined ? {} : { grade: g.grade }) })),
    grade,
  };
  const fieldName = (path: readonly PropertyKey[]) => (path[0] === 'logins' ? (sources[Number(path[1])] ?? 'username') : (FIELD_NAMES[String(path[0])] ?? String(path[0])));
  return { where: { file, line: row.line }, fieldName, input: Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) };
}

export async function parseOneRoster(zip: Buffer, school: string): Promise<ParsedRoster> {
  const texts = await readZipFiles(zip, new Set(ONEROSTER_FILES));
  const listed = await readManifest(texts);
  const csv: Partial<Record<string, CsvFile>> = {};
  for (const name of listed) if (name !== 'manifest.csv') csv[name] = await readCsv(name, texts.get(name)!);
  const org = schoolOrg(csv['orgs.csv']!, school);
  const users = csv['users.csv']!;
  requireColumns(users, ['sourcedId', 'username', 'givenName', 'familyName']);
  const problems = new ProblemList();
  const userIds = new Set(users.rows.map((r) => valueOf(r, 'sourcedId')).filter((id) => id !== undefined));
  const enrolled = enrollmentsAt(csv['enrollments.csv'], org, classesAt(csv['classes.csv'], org), userIds, problems);
  const roles = csv['roles.csv'] ? rolesAt(csv['roles.csv'], org, problems) : enrolled.roles;
  const demographics = demographicsOf(csv['demographics.csv'], problems);
  const candidates: Candidate[] = [];
  let skipped = 0;
  for (const row of users.rows) {
    const id = valueOf(row, 'sourcedId') ?? '';
    if (!id) problems.add({ file: users.name, line: row.line, field: 'sourcedId', detail: 'missing' });
    const role = roles.get(id);
    if (!role || !isActive(row) || valueOf(row, 'enabledUser') === 'false') {
      skipped++;
      continue;
    }
    candidates.push(candidateOf(row, users.name, role, enrolled.groups.get(id) ?? [], demographics.get(id), problems));
  }
  return { kind: 'full', candidates, skipped, problems };
}
