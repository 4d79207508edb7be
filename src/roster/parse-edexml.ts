import { readEdexml, type EdexFile, type EdexGroup, type EdexPerson } from './edexml-reader.js';
import type { ParsedRoster } from './imports.js';
import { fileProblem, ProblemList } from './problems.js';
import type { Candidate } from './validate.js';

// EDEXML 2.1 to roster people (docs/roster.md, "EDEXML"): leerling/@key is the
// pupil key, leerkracht/@key a teacher's; roepnaam, voorvoegsel and achternaam
// the names; gebruikersnaam and emailadres the logins; the stamgroep first,
// then the samengestelde groepen. @eckid is not kept.

const FILE = 'body';

/** EDEXJaargroepType: groep 1..8 and VO leerjaar codes 11..15 are grades; the other codes (0, 16, B, D, S, V, C, N, H) mean none. */
const JAARGROEPEN = new Set(['B', 'D', '0', '1', '2', '3', '4', '5', '6', '7', '8', '11', '12', '13', '14', '15', '16', 'S', 'V', 'C', 'N', 'H']);
function gradeOf(jaargroep: string | undefined): number | undefined | 'invalid' {
  if (jaargroep === undefined) return undefined;
  if (!JAARGROEPEN.has(jaargroep)) return 'invalid';
  const n = Number(jaargroep);
  return Number.isInteger(n) && n >= 1 && n <= 15 ? n : undefined;
}

/** EDEXGeslachtType (NEN-ISO 5218): 0 unknown (left out), 1 male, 2 female, 9 unspecified. */
const GENDERS: Record<string, string | undefined> = { '0': undefined, '1': 'male', '2': 'female', '9': 'unspecified' };

const FIELD_NAMES: Record<string, string> = {
  studentKey: '@key', role: '(element)', given_name: 'roepnaam', tussenvoegsel: 'voorvoegsel', family_name: 'achternaam',
  birthdate: 'geboortedatum', gender: 'geslacht', groups: 'groep', grade: 'jaargroep',
};
const LOGIN_FIELDS = ['gebruikersnaam', 'emailadres'] as const;

/** The file must be this school's: brincode plus dependancecode ("00" or none for the main location). */
function checkSchool(file: EdexFile, school: string): void {
  const brin = file.school.brincode;
  if (!brin) throw fileProblem(FILE, 'school/brincode', 'missing');
  const location = file.school.dependancecode && file.school.dependancecode !== '00' ? file.school.dependancecode : '';
  if (`${brin}${location}` !== school) throw fileProblem(FILE, 'school/brincode', 'the file is for another school');
}

type GroupView = { key: string; name: string | undefined; grade?: number };

function groupsOf(file: EdexFile, problems: ProblemList): Map<string, GroupView> {
  const groups = new Map<string, GroupView>();
  const lines = new Map<string, number>();
  for (const g of file.groups) {
    const where = { file: FILE, line: g.line };
    if (!g.key) problems.add({ ...where, field: `${g.kind}/@key`, detail: 'missing' });
    const grade = gradeOf(g.fields.jaargroep);
    if (grade === 'invalid') problems.add({ ...where, field: `${g.kind}/jaargroep`, detail: 'not an EDEXML jaargroep code' });
    if (!g.key) continue;
    const id = groupId(g.kind, g.key);
    if (lines.has(id)) problems.add({ ...where, field: `${g.kind}/@key`, detail: `the same group key as line ${lines.get(id)}` });
    lines.set(id, g.line);
    groups.set(id, { key: g.key, name: g.fields.naam, ...(typeof grade === 'number' ? { grade } : {}) });
  }
  return groups;
}

const groupId = (kind: EdexGroup['kind'], key: string) => `${kind}\0${key}`;

function candidateOf(p: EdexPerson, groups: Map<string, GroupView>, problems: ProblemList): Candidate {
  const where = { file: FILE, line: p.line };
  const grade = gradeOf(p.fields.jaargroep);
  if (grade === 'invalid') problems.add({ ...where, field: `${p.kind}/jaargroep`, detail: 'not an EDEXML jaargroep code' });
  const gender = p.fields.geslacht;
  if (gender !== undefined && !(gender in GENDERS)) problems.add({ ...where, field: `${p.kind}/geslacht`, detail: 'must be 0, 1, 2 or 9' });
  const memberOf: GroupView[] = [];
  for (const ref of p.groupRefs) {
    const group = ref.key === undefined ? undefined : groups.get(groupId(ref.kind, ref.key));
    if (group) memberOf.push(group);
    else problems.add({ ...where, field: `${p.kind}/${ref.kind}/@key`, detail: 'names no group in groepen' });
  }
  const loginFields = LOGIN_FIELDS.filter((f) => p.fields[f] !== undefined);
  const input = {
    studentKey: p.key,
    logins: loginFields.map((f) => p.fields[f]),
    role: p.kind === 'leerling' ? 'student' : 'teacher',
    given_name: p.fields.roepnaam,
    tussenvoegsel: p.fields.voorvoegsel,
    family_name: p.fields.achternaam,
    birthdate: p.fields.geboortedatum,
    gender: gender === undefined ? undefined : GENDERS[gender],
    groups: memberOf,
    grade: typeof grade === 'number' ? grade : undefined,
  };
  const fieldName = (path: readonly PropertyKey[]) =>
    `${p.kind}/${path[0] === 'logins' ? (loginFields[Number(path[1])] ?? 'gebruikersnaam') : (FIELD_NAMES[String(path[0])] ?? String(path[0]))}`;
  return { where, fieldName, input: withoutUndefined(input) };
}

const withoutUndefined = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

export async function parseEdexml(xml: Buffer, school: string): Promise<ParsedRoster> {
  const file = await readEdexml(xml);
  checkSchool(file, school);
  const problems = new ProblemList();
  const groups = groupsOf(file, problems);
  const candidates = file.people.map((p) => candidateOf(p, groups, problems));
  return { kind: 'full', candidates, skipped: 0, problems };
}
