import { daysBefore } from '../privacy/disclosures.js';
import { schoolDay } from '../release/licence.js';
import type { Queryable } from '../store/db.js';
import { purgeRoster } from './roster-read.js';

// The roster's retention (docs/roster.md, "Removal and deletion"), run on the
// ledger's retention timer: a person removed from the roster more than
// ROSTER_REMOVAL_GRACE_DAYS ago is deleted; unmatched-login counts and finished
// import records are kept HISTORY_DAYS.

const DAY_MS = 86_400_000;
export const HISTORY_DAYS = 90;

/** Returns how many removed people were deleted. */
export function purgeExpiredRoster(db: Queryable, now: number, graceDays: number): Promise<number> {
  return purgeRoster(db, {
    removedBefore: new Date(now - graceDays * DAY_MS),
    historyBefore: new Date(now - HISTORY_DAYS * DAY_MS),
    historyDayBefore: daysBefore(schoolDay(now), HISTORY_DAYS),
  });
}
