import type { KeySchedule } from '../crypto/key-schedule.js';
import type { Queryable } from '../store/db.js';
import type { RosterPerson } from './person.js';
import { deleteRosterPerson, findByKey } from './roster-read.js';
import { keyHash, openPerson } from './seal.js';

// A pupil's rights over the roster (docs/roster.md, "Privacy rights"): the
// access request shows the roster's entry, opened; erasure deletes it at once,
// removed or not.

export interface RosterEntry {
  person: RosterPerson;
  /** When the pupil was removed from the roster (deleted after the grace period); null while on it. */
  removedAt: string | null;
}

export async function rosterEntryOf(q: Queryable, keys: Pick<KeySchedule, 'roster'>, school: string, studentKey: string): Promise<RosterEntry | null> {
  const schoolKeys = keys.roster(school);
  const row = await findByKey(q, school, keyHash(schoolKeys, studentKey).toString('hex'));
  if (!row) return null;
  return { person: openPerson(schoolKeys, school, Buffer.from(row.keyHash, 'hex'), row.sealed), removedAt: row.removedAt?.toISOString() ?? null };
}

/** Returns how many roster entries were deleted (0 or 1). */
export const eraseFromRoster = (q: Queryable, keys: Pick<KeySchedule, 'roster'>, school: string, studentKey: string): Promise<number> =>
  deleteRosterPerson(q, school, keyHash(keys.roster(school), studentKey).toString('hex'));
