import type { Licence } from '../store/registry.js';
import type { Pupil } from './pupil.js';

// docs/release.md: a licence covers the pupil when it
// is valid today and either names no scope (whole school) or lists one of the
// pupil's groups or one of their groups' grades.

/** Today's date (YYYY-MM-DD) where the schools are: licence dates are Dutch calendar days. */
export function schoolDay(epochMs: number): string {
  // Dutch midnight always falls on a whole minute, so one formatting per minute is exact.
  const minute = Math.floor(epochMs / 60_000);
  if (minute !== lastMinute) {
    lastMinute = minute;
    lastDay = DUTCH_DATE.format(new Date(epochMs));
  }
  return lastDay;
}
let lastMinute = Number.NaN;
let lastDay = '';

// Built once: constructing a DateTimeFormat costs more than a whole login's HMACs.
const DUTCH_DATE = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Amsterdam', year: 'numeric', month: '2-digit', day: '2-digit' });

const validOn = (licence: Licence, day: string): boolean =>
  (!licence.validFrom || licence.validFrom <= day) && (!licence.validUntil || day <= licence.validUntil);

function inScope(licence: Licence, pupil: Pupil): boolean {
  if (!licence.groups && !licence.grades) return true;
  const groupHit = licence.groups?.some((g) => pupil.groups.some((pg) => pg.key === g)) ?? false;
  // The grades of the pupil's groups, and the pupil's own grade: in a combination group (6/7) a
  // pupil of grade 7 is covered by a grade-7 licence (docs/release.md).
  const grades = new Set([...pupil.groups.map((g) => g.grade), pupil.grade]);
  const gradeHit = licence.grades?.some((g) => grades.has(g)) ?? false;
  return groupHit || gradeHit;
}

/** The first licence that is valid on `day` and covers the pupil, if any. */
export function findLicence(licences: readonly Licence[], pupil: Pupil, day: string): Licence | undefined {
  return licences.find((l) => validOn(l, day) && inScope(l, pupil));
}
