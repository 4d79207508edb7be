import type { KeySchedule } from '../crypto/key-schedule.js';
import type { Queryable } from '../store/db.js';
import { openPerson } from './seal.js';

// The pupil keys of a school's active roster, opened from their sealed rows
// (docs/roster.md): for work that needs every pupil's root, such as warming
// the root cache before the school year. The keys live in the caller's memory
// only, as a job's do.

export async function activeStudentKeys(q: Queryable, keys: Pick<KeySchedule, 'roster'>, school: string): Promise<string[]> {
  const rows = await q.query<{ key_hash: Uint8Array; sealed: Uint8Array }>(
    'SELECT key_hash, sealed FROM roster_people WHERE school_id = $1 AND removed_at IS NULL ORDER BY key_hash',
    [school],
  );
  const rosterKeys = keys.roster(school);
  return rows.map((r) => openPerson(rosterKeys, school, r.key_hash, r.sealed).studentKey);
}
