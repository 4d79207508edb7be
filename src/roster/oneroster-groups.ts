import { isActive, listOf, requireColumns, valueOf, type CsvFile } from './oneroster-csv.js';
import type { Role } from './oneroster-school.js';
import type { ProblemList } from './problems.js';

// Classes and enrollments of a OneRoster export as roster groups (docs/roster.md,
// "OneRoster"): a class of the school is a group (sourcedId the key, title the
// name, its one numeric grade the grade); a homeroom class comes first, as the
// stamgroep does in EDEXML.

export interface ClassGroup {
  key: string;
  name: string | undefined;
  grade?: number;
  homeroom: boolean;
}

/** A OneRoster grade as the Dutch grade (jaargroep or leerjaar) it is written as: "04" is 4; KG, PK and the like are none. */
export function dutchGrade(code: string): number | undefined {
  if (!/^\d{1,2}$/.test(code)) return undefined;
  const n = Number(code);
  return n >= 1 && n <= 15 ? n : undefined;
}

export function classesAt(classes: CsvFile | undefined, org: string): Map<string, ClassGroup> {
  const out = new Map<string, ClassGroup>();
  if (!classes) return out;
  requireColumns(classes, ['sourcedId', 'title', 'schoolSourcedId']);
  for (const row of classes.rows) {
    const key = valueOf(row, 'sourcedId');
    if (!key || !isActive(row) || valueOf(row, 'schoolSourcedId') !== org) continue;
    const grades = listOf(row, 'grades').map(dutchGrade).filter((g) => g !== undefined);
    const grade = grades.length === 1 ? grades[0] : undefined;
    out.set(key, { key, name: valueOf(row, 'title'), homeroom: valueOf(row, 'classType') === 'homeroom', ...(grade === undefined ? {} : { grade }) });
  }
  return out;
}

export interface Enrolled {
  groups: Map<string, ClassGroup[]>;
  /** Each user's role from the enrollments: teacher if any teacher enrollment, else student. */
  roles: Map<string, Role>;
}

/** The school's enrollments per user; an enrollment naming an unknown class or user is a bad row. */
export function enrollmentsAt(enrollments: CsvFile | undefined, org: string, classes: Map<string, ClassGroup>, users: ReadonlySet<string>, problems: ProblemList): Enrolled {
  const out: Enrolled = { groups: new Map(), roles: new Map() };
  if (!enrollments) return out;
  requireColumns(enrollments, ['sourcedId', 'classSourcedId', 'schoolSourcedId', 'userSourcedId', 'role']);
  for (const row of enrollments.rows) {
    if (!isActive(row) || valueOf(row, 'schoolSourcedId') !== org) continue;
    const user = valueOf(row, 'userSourcedId') ?? '';
    const group = classes.get(valueOf(row, 'classSourcedId') ?? '');
    const where = { file: enrollments.name, line: row.line };
    if (!users.has(user)) problems.add({ ...where, field: 'userSourcedId', detail: 'names no user in users.csv' });
    if (!group) problems.add({ ...where, field: 'classSourcedId', detail: 'names no class of this school in classes.csv' });
    if (!group || !users.has(user)) continue;
    const list = out.groups.get(user) ?? [];
    if (!list.includes(group)) list.push(group);
    out.groups.set(user, list);
    const role = valueOf(row, 'role');
    if (role === 'teacher' || (role === 'student' && !out.roles.has(user))) out.roles.set(user, role);
  }
  for (const list of out.groups.values()) list.sort((a, b) => Number(b.homeroom) - Number(a.homeroom));
  return out;
}
