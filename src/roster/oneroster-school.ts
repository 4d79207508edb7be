import { isActive, readCsv, requireColumns, valueOf, type CsvFile } from './oneroster-csv.js';
import { fileProblem, type ProblemList } from './problems.js';

// The frame of a OneRoster 1.2 bulk export (docs/roster.md, "OneRoster"): the
// manifest, which org is this school, and each user's role there.

export const ONEROSTER_FILES = ['manifest.csv', 'orgs.csv', 'users.csv', 'classes.csv', 'enrollments.csv', 'roles.csv', 'demographics.csv'] as const;
export type OneRosterFile = (typeof ONEROSTER_FILES)[number];

/** The files the import reads, as the manifest lists them: bulk or absent; users and orgs are required. */
export async function readManifest(files: Map<string, string>): Promise<Set<OneRosterFile>> {
  const text = files.get('manifest.csv');
  if (text === undefined) throw fileProblem('manifest.csv', '(file)', 'missing from the zip');
  const manifest = await readCsv('manifest.csv', text);
  requireColumns(manifest, ['propertyName', 'value']);
  const props = new Map(manifest.rows.map((r) => [valueOf(r, 'propertyName'), valueOf(r, 'value')]));
  if (props.get('oneroster.version') !== '1.2') throw fileProblem('manifest.csv', 'oneroster.version', 'must be 1.2');
  const bulk = new Set<OneRosterFile>(['manifest.csv']);
  for (const name of ONEROSTER_FILES.slice(1)) {
    const property = `file.${name.replace('.csv', '')}`;
    const mode = props.get(property) ?? 'absent';
    if (mode === 'delta') throw fileProblem('manifest.csv', property, 'a roster is sent whole: bulk files only');
    if (mode !== 'bulk' && mode !== 'absent') throw fileProblem('manifest.csv', property, 'must be bulk or absent');
    if (mode === 'absent') continue;
    if (!files.has(name)) throw fileProblem(name, '(file)', 'listed as bulk in the manifest but missing from the zip');
    bulk.add(name);
  }
  for (const required of ['users.csv', 'orgs.csv'] as const) if (!bulk.has(required)) throw fileProblem('manifest.csv', `file.${required.replace('.csv', '')}`, 'must be bulk');
  return bulk;
}

/** This school's org: the school org whose identifier is the school's id, else the only school org of the export. */
export function schoolOrg(orgs: CsvFile, school: string): string {
  requireColumns(orgs, ['sourcedId', 'type']);
  const schools = orgs.rows.filter((r) => isActive(r) && valueOf(r, 'type') === 'school');
  const byId = schools.filter((r) => valueOf(r, 'identifier') === school);
  const chosen = byId.length ? byId : schools.length === 1 ? schools : [];
  if (chosen.length !== 1) throw fileProblem('orgs.csv', 'identifier', 'no single org of type school with this school\'s id as identifier');
  return valueOf(chosen[0]!, 'sourcedId')!;
}

export type Role = 'student' | 'teacher';

/** Each user's role at the school from roles.csv: student or teacher, the primary role first. */
export function rolesAt(roles: CsvFile, org: string, problems: ProblemList): Map<string, Role> {
  requireColumns(roles, ['sourcedId', 'userSourcedId', 'roleType', 'role', 'orgSourcedId']);
  const found = new Map<string, { role: Role; primary: boolean }>();
  for (const row of roles.rows) {
    if (!isActive(row) || valueOf(row, 'orgSourcedId') !== org) continue;
    const role = valueOf(row, 'role');
    const user = valueOf(row, 'userSourcedId');
    if (!user) problems.add({ file: roles.name, line: row.line, field: 'userSourcedId', detail: 'missing' });
    if (!user || (role !== 'student' && role !== 'teacher')) continue;
    const primary = valueOf(row, 'roleType') === 'primary';
    const had = found.get(user);
    if (!had || (primary && !had.primary)) found.set(user, { role, primary });
  }
  return new Map([...found].map(([user, r]) => [user, r.role]));
}
