import { LRUCache } from 'lru-cache';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { KeySchedule } from '../crypto/key-schedule.js';
import { schoolDay } from '../release/licence.js';
import type { Queryable } from '../store/db.js';
import { openNotices } from '../store/notices.js';
import { SCHOOL_ID } from '../store/seed-schema.js';
import type { RosterPerson } from './person.js';
import { countUnmatched, findByLogin } from './roster-read.js';
import { hasLogin, lookupHash, openPerson, type IdentifierKind } from './seal.js';

// The roster as a login reads it (docs/roster.md, "At login"): a person found
// by the keyed hash of the upstream identifier, opened, and checked to carry
// that identifier (so a login row cannot point at someone else). Answers,
// found or not, are kept in an in-process LRU for a short time; a roster
// change empties the school's entries here at once and in every other process
// through <REDIS_KEY_PREFIX>roster-changed. A process that misses a notice
// (disconnected) serves its entries until they expire (CACHE_TTL_MS).

export type { IdentifierKind } from './seal.js';
export type { RosterPerson } from './person.js';

export const ROSTER_CHANGED = 'roster-changed';

/** The longest a process that missed a change notice can keep answering from before the change. */
export const CACHE_TTL_MS = 30_000;
const CACHE_MAX = 20_000;
const MAX_IDENTIFIER = 256;

export interface RosterLookup {
  /** The person on the school's roster with this upstream identifier; undefined when there is none. */
  findRosterPerson(school: string, identifierKind: IdentifierKind, value: string): Promise<RosterPerson | undefined>;
  /** Count a login that found nobody (never the identifier): the school reads the count in the admin API. */
  countUnmatchedLogin(school: string): Promise<void>;
}

/** A gateway without its database (some tests) has no roster: nobody is on it, and nothing is counted. */
export const noRoster: RosterLookup = { findRosterPerson: async () => undefined, countUnmatchedLogin: async () => undefined };

export interface RosterChanges {
  /** After a committed change of the school's roster: forget cached answers here, and tell every process. */
  changed(school: string): Promise<void>;
}

export interface RosterService extends RosterLookup, RosterChanges {
  close(): Promise<void>;
}

export interface RosterServiceDeps {
  db: Queryable;
  keys: Pick<KeySchedule, 'roster'>;
  clock: Clock;
}

interface Entry {
  generation: number;
  person: RosterPerson | null;
}

export function openRosterService(config: Config, deps: RosterServiceDeps, onError: (err: unknown) => void): RosterService {
  const cache = new LRUCache<string, Entry>({ max: CACHE_MAX, ttl: CACHE_TTL_MS });
  const generations = new Map<string, number>();
  const generationOf = (school: string) => generations.get(school) ?? 0;
  const forget = (school: string) => generations.set(school, generationOf(school) + 1);
  const notices = openNotices(config, ROSTER_CHANGED, {
    onMessage: (school) => (SCHOOL_ID.test(school) ? forget(school) : onError(new Error('malformed roster-changed notice ignored'))),
    // Whatever changed while this process was not listening.
    onSubscribed: () => cache.clear(),
    onError,
  });

  async function load(school: string, kind: IdentifierKind, value: string): Promise<RosterPerson | null> {
    const keys = deps.keys.roster(school);
    const row = await findByLogin(deps.db, school, lookupHash(keys, kind, value).toString('hex'));
    if (!row) return null;
    const person = openPerson(keys, school, Buffer.from(row.keyHash, 'hex'), row.sealed);
    return hasLogin(person, kind, value) ? person : null;
  }

  return {
    async findRosterPerson(school, kind, value) {
      if (!SCHOOL_ID.test(school) || value.length === 0 || value.length > MAX_IDENTIFIER) return undefined;
      const generation = generationOf(school);
      const cacheKey = `${school}\0${kind}\0${lookupHash(deps.keys.roster(school), kind, value).toString('base64url')}`;
      const hit = cache.get(cacheKey);
      if (hit && hit.generation === generation) return hit.person ?? undefined;
      const person = await load(school, kind, value);
      // A change committed while this lookup ran must not be cached over.
      if (generationOf(school) === generation) cache.set(cacheKey, { generation, person });
      return person ?? undefined;
    },
    async countUnmatchedLogin(school) {
      await countUnmatched(deps.db, school, schoolDay(deps.clock.now()));
    },
    async changed(school) {
      forget(school);
      await notices.publish(school);
    },
    close: () => notices.close(),
  };
}
