import { LRUCache } from 'lru-cache';
import type { PupilRefs } from '../crypto/pseudonym.js';
import type { Db } from '../store/db.js';
import { countLegacyRefs, legacyRefPages, moveLegacyRows } from './legacy-refs.js';
import { createRefFilter, isRef, type RefFilter } from './ref-filter.js';

// The transition from the student ref's first form to the ref from the root
// (docs/pseudonyms.md, "The transition"). At start-up each process reads
// which first-form refs the database still holds into a Bloom filter (about
// 1.2 bytes per ref). A login then moves the pupil's old rows only when the
// filter says it may have some, once per pupil and process: every other login
// pays one bit test, and once no first-form row is left at start-up, nothing.

export interface RefTransition {
  /** At a login, once the root is at hand: the pupil's first-form rows move to its ref. Never fails the login. */
  atLogin(school: string, pupil: PupilRefs): Promise<void>;
  /** Read the first-form refs the database holds; until it succeeds no login moves anything. */
  load(): Promise<void>;
  close(): void;
  readonly stats: { legacyRefs: number | undefined; movedPupils: number };
}

export interface RefTransitionOptions {
  db: Db;
  onError: (err: unknown, what: string) => void;
  /** Pupils this process has moved (or found nothing to move for), remembered so it asks once. */
  maxRemembered?: number;
  /** A failed load is tried again after this long. */
  retryMs?: number;
}

/** Without a database there is nothing to move. */
export const noRefTransition: RefTransition = {
  atLogin: async () => undefined,
  load: async () => undefined,
  close: () => undefined,
  stats: { legacyRefs: 0, movedPupils: 0 },
};

export function createRefTransition(options: RefTransitionOptions): RefTransition {
  const { db, onError } = options;
  const asked = new LRUCache<string, true>({ max: options.maxRemembered ?? 100_000 });
  const stats: RefTransition['stats'] = { legacyRefs: undefined, movedPupils: 0 };
  let filter: RefFilter | undefined;
  let retry: NodeJS.Timeout | undefined;
  let closed = false;

  async function read(): Promise<RefFilter> {
    const next = createRefFilter(await countLegacyRefs(db));
    // Anything else in the column cannot be a pupil's first-form ref: left out.
    for await (const page of legacyRefPages(db)) for (const ref of page) if (isRef(ref)) next.add(ref);
    return next;
  }

  async function load(): Promise<void> {
    clearTimeout(retry);
    try {
      filter = await read();
      stats.legacyRefs = filter.size;
    } catch (err) {
      if (closed) return;
      onError(err, 'first-form student refs not read; tried again shortly');
      retry = setTimeout(() => void load(), options.retryMs ?? 60_000);
      retry.unref();
    }
  }

  return {
    stats,
    load,
    async atLogin(school, pupil) {
      if (!filter?.size) return;
      const legacy = pupil.legacy();
      if (!filter.mayHold(legacy) || asked.has(legacy)) return;
      try {
        const moved = await moveLegacyRows(db, school, legacy, pupil.ref);
        asked.set(legacy, true);
        if (moved.disclosures || moved.objections) stats.movedPupils++;
      } catch (err) {
        // The rows stay where they are, still found under both forms: the next login tries again.
        onError(err, 'first-form rows of a pupil not moved yet');
      }
    },
    close() {
      closed = true;
      clearTimeout(retry);
    },
  };
}
