import { ZipFile } from 'yazl';
import type { KeySchedule } from '../src/crypto/key-schedule.js';
import type { RosterPerson } from '../src/roster/person.js';
import { storedRows } from '../src/roster/roster-write.js';
import { openPerson } from '../src/roster/seal.js';
import type { Queryable } from '../src/store/db.js';

// One small school written three ways (EDEXML 2.1, a OneRoster 1.2 CSV zip,
// the gateway's JSON), so the roster tests can show all three give the same
// roster. Names and keys are distinctive, so a dump that leaked one would show it.

export interface FixtureGroup {
  key: string;
  name: string;
  /** A stamgroep (EDEXML groep, OneRoster homeroom) with a jaargroep, or a samengestelde groep without. */
  grade?: number;
}

export const GROUPS = {
  g7: { key: 'GRP7A', name: 'Groep 7a', grade: 7 },
  g8: { key: 'GRP8B', name: 'Groep 8b', grade: 8 },
  koor: { key: 'SG-KOOR', name: 'Zangkoor' },
} satisfies Record<string, FixtureGroup>;

/** The roster as JSON, in the gateway's person shape: what every format must come to. */
export const PEOPLE: RosterPerson[] = [
  {
    studentKey: 'LLQ4711z', logins: ['sanneke.vdijkhuizen', 'Sanneke.vanDijkhuizen@regenboog.example'], role: 'student',
    given_name: 'Sannekeq', tussenvoegsel: 'van', family_name: 'Dijkhuizenq', birthdate: '2014-03-02', gender: 'female',
    groups: [GROUPS.g7, GROUPS.koor], grade: 7,
  },
  {
    studentKey: 'LLQ4712z', logins: ['daanq.jansenq'], role: 'student',
    given_name: 'Daanqw', family_name: 'Jansenqw', birthdate: '2013-05-17', gender: 'male', groups: [GROUPS.g8], grade: 8,
  },
  {
    studentKey: 'LLQ4713z', logins: ['noorq@regenboog.example'], role: 'student',
    given_name: 'Noorqx', tussenvoegsel: 'el', family_name: 'Amraniqx', birthdate: '2013-11-30', gender: 'unspecified',
    groups: [GROUPS.g8, GROUPS.koor], grade: 8,
  },
  {
    studentKey: 'LKQ0001z', logins: ['m.devriesq', 'm.devriesq@regenboog.example'], role: 'teacher',
    given_name: 'Mariekeq', tussenvoegsel: 'de', family_name: 'Vriesqy', groups: [GROUPS.g7, GROUPS.koor],
  },
];

const esc = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('"', '&quot;');
const el = (name: string, value: string | number | undefined) => (value === undefined ? '' : `<${name}>${esc(String(value))}</${name}>`);
const GESLACHT: Record<string, string> = { male: '1', female: '2', unspecified: '9' };

function edexPerson(p: RosterPerson): string {
  const tag = p.role === 'student' ? 'leerling' : 'leerkracht';
  const [stam, ...combined] = p.groups;
  const names = el('achternaam', p.family_name) + el('voorvoegsel', p.tussenvoegsel) + el('roepnaam', p.given_name);
  const logins = el('gebruikersnaam', p.logins.find((l) => !l.includes('@'))) + el('emailadres', p.logins.find((l) => l.includes('@')));
  if (p.role === 'teacher') {
    const refs = p.groups.map((g) => (g.grade === undefined ? `<samengestelde_groep key="${esc(g.key)}"/>` : `<groep key="${esc(g.key)}"/>`)).join('');
    return `<${tag} key="${esc(p.studentKey)}">${names}${logins}<groepen>${refs}</groepen></${tag}>\n`;
  }
  const groups = (stam ? `<groep key="${esc(stam.key)}"/>` : '') + (combined.length ? `<samengestelde_groepen>${combined.map((g) => `<samengestelde_groep key="${esc(g.key)}"/>`).join('')}</samengestelde_groepen>` : '');
  return `<${tag} key="${esc(p.studentKey)}" eckid="https://id.example/${esc(p.studentKey)}">${names}${el('geboortedatum', p.birthdate)}${el('geslacht', p.gender && GESLACHT[p.gender])}${el('jaargroep', p.grade)}${groups}${logins}</${tag}>\n`;
}

/** EDEXML 2.1 for the school; `extraPupils` are raw leerling elements (bad rows). */
export function edexml(school: string, people: readonly RosterPerson[] = PEOPLE, extraPupils = '', groupList: readonly FixtureGroup[] = Object.values(GROUPS)): string {
  const groups = groupList
    .map((g) => (g.grade !== undefined ? `<groep key="${g.key}">${el('naam', g.name)}${el('jaargroep', g.grade)}</groep>` : `<samengestelde_groep key="${g.key}">${el('naam', g.name)}</samengestelde_groep>`))
    .join('\n');
  const brin = school.slice(0, 4);
  const dependance = school.length > 4 ? el('dependancecode', school.slice(4)) : '';
  return `<?xml version="1.0" encoding="UTF-8"?>
<EDEX xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="EDEXML.structuur.xsd">
<school><schooljaar>2024-2025</schooljaar><brincode>${brin}</brincode>${dependance}<xsdversie>2.1</xsdversie></school>
<groepen>
${groups}
</groepen>
<leerlingen>
${people.filter((p) => p.role === 'student').map(edexPerson).join('')}${extraPupils}</leerlingen>
<leerkrachten>
${people.filter((p) => p.role === 'teacher').map(edexPerson).join('')}</leerkrachten>
</EDEX>
`;
}

const csv = (rows: (string | number | undefined)[][]) => rows.map((r) => r.map((v) => (v === undefined ? '' : /[",]/.test(String(v)) ? `"${String(v).replaceAll('"', '""')}"` : String(v))).join(',')).join('\r\n') + '\r\n';

/** The OneRoster 1.2 CSV files for the school (plus one parent, whom the import skips). */
export function oneRosterFiles(school: string, people: readonly RosterPerson[] = PEOPLE, groupList: readonly FixtureGroup[] = Object.values(GROUPS)): Record<string, string> {
  const students = people.filter((p) => p.role === 'student');
  const classes = groupList.map((g) => [g.key, 'active', g.name, g.grade !== undefined ? `0${g.grade}` : '07,08', g.grade !== undefined ? 'homeroom' : 'scheduled', 'org-1']);
  let n = 0;
  return {
    'manifest.csv': csv([['propertyName', 'value'], ['manifest.version', '1.0'], ['oneroster.version', '1.2'], ['file.orgs', 'bulk'], ['file.users', 'bulk'], ['file.classes', 'bulk'], ['file.enrollments', 'bulk'], ['file.roles', 'bulk'], ['file.demographics', 'bulk'], ['file.courses', 'absent']]),
    'orgs.csv': csv([['sourcedId', 'status', 'dateLastModified', 'name', 'type', 'identifier', 'parentSourcedId'], ['district-1', 'active', '', 'Stichting', 'district', '', ''], ['org-1', 'active', '', 'De Regenboog', 'school', school, 'district-1']]),
    'users.csv': csv([
      ['sourcedId', 'status', 'dateLastModified', 'enabledUser', 'username', 'userIds', 'givenName', 'familyName', 'middleName', 'identifier', 'email', 'grades', 'primaryOrgSourcedId'],
      ...people.map((p) => [p.studentKey, 'active', '', 'true', p.logins.find((l) => !l.includes('@')) ?? p.logins[0], '', p.given_name, p.family_name, p.tussenvoegsel, '', p.logins.find((l) => l.includes('@')), p.grade === undefined ? '' : `0${p.grade}`, 'org-1']),
      ['parent-1', 'active', '', 'true', 'ouder.q', '', 'Ouder', 'Ouderq', '', '', '', '', 'org-1'],
    ]),
    'roles.csv': csv([['sourcedId', 'status', 'dateLastModified', 'userSourcedId', 'roleType', 'role', 'beginDate', 'endDate', 'orgSourcedId'], ...people.map((p, i) => [`r${i}`, 'active', '', p.studentKey, 'primary', p.role, '', '', 'org-1']), ['rp', 'active', '', 'parent-1', 'primary', 'parent', '', '', 'org-1']]),
    'classes.csv': csv([['sourcedId', 'status', 'title', 'grades', 'classType', 'schoolSourcedId', 'courseSourcedId', 'termSourcedIds'], ...classes.map((c) => [...c, 'course-1', 'term-1'])]),
    'enrollments.csv': csv([['sourcedId', 'status', 'classSourcedId', 'schoolSourcedId', 'userSourcedId', 'role', 'primary'], ...people.flatMap((p) => p.groups.map((g) => [`e${n++}`, 'active', g.key, 'org-1', p.studentKey, p.role, 'false']))]),
    'demographics.csv': csv([['sourcedId', 'status', 'birthDate', 'sex'], ...students.map((p) => [p.studentKey, 'active', p.birthdate, p.gender])]),
  };
}

export function zipOf(files: Record<string, string | Buffer>): Promise<Buffer> {
  const zip = new ZipFile();
  for (const [name, content] of Object.entries(files)) zip.addBuffer(typeof content === 'string' ? Buffer.from(content, 'utf8') : content, name);
  zip.end();
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve(Buffer.concat(chunks))).on('error', reject);
  });
}

/** The whole roster as stored, opened with the school's keys, in pupil-key order; removed people marked. */
export async function readRoster(db: Queryable, keys: KeySchedule, school: string): Promise<(RosterPerson & { removed?: true })[]> {
  const out: (RosterPerson & { removed?: true })[] = [];
  for await (const row of storedRows(db, school)) {
    const person = openPerson(keys.roster(school), school, Buffer.from(row.key_hash, 'hex'), row.sealed);
    out.push(row.removed ? { ...person, removed: true } : person);
  }
  return out.sort((a, b) => a.studentKey.localeCompare(b.studentKey));
}
