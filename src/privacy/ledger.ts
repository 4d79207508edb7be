import { LRUCache } from 'lru-cache';
import { UnavailableError } from '../errors.js';
import type { Queryable } from '../store/db.js';
import type { Kv } from '../store/kv.js';
import { kvKey } from '../store/kv-keys.js';
import { addDisclosureCounts, disclosureKey, insertDisclosures, type Disclosure } from './disclosures.js';

// The disclosure ledger on the login path (docs/privacy.md).
//
// - A release whose row (pupil, client, claim set, day) is not yet recorded is
//   written durably before the login may go on; concurrent new rows share one
//   INSERT (group commit: while one write runs, the next batch gathers).
// - A release already recorded today costs no database write: this process
//   remembers the rows it knows are durable, and every process shares that
//   knowledge through a KV marker set after the row is committed. Its count
//   is added in the background (at most LEDGER_COUNT_FLUSH_SECONDS late; a
//   crash loses those counts, never a row).
// - A write that fails fails the login (UnavailableError: 503, nothing handed out).

export interface DisclosureLedger {
  /** Resolves once the disclosure is durable; rejects with UnavailableError when it cannot be. */
  record(disclosure: Disclosure): Promise<void>;
  /** Forget what this process remembers of one pupil (erasure): its rows and counts still to add. */
  forget(studentRef: string): void;
  /** Add the counts gathered so far. */
  flushCounts(): Promise<void>;
  close(): Promise<void>;
}

/** The KV marker "this row is durable", shared by every process. */
export const ledgerMarkerKey = (d: Disclosure): string => kvKey('ledgerMarker', disclosureKey(d));
/** Longer than any Dutch day (DST included): the marker outlives its day, then goes. */
export const LEDGER_MARKER_TTL_MS = 26 * 3600 * 1000;
/** Counts gathered while the database is away are kept up to this many rows. */
const MAX_PENDING_COUNTS = 100_000;
const MAX_BATCH = 500;

export interface LedgerOptions {
  db: Queryable;
  kv: Pick<Kv, 'get' | 'set'>;
  countFlushMs: number;
  /** Remembered rows in this process; each is a short string. */
  maxRemembered?: number;
  onError?: (err: unknown, what: string) => void;
}

/** A row whose count is still being gathered (a DisclosureRow with a count that grows). */
type Counted = Disclosure & { count: number };

interface Waiting {
  row: Disclosure;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export function createLedger(options: LedgerOptions): DisclosureLedger {
  const { db, kv } = options;
  const onError = options.onError ?? (() => undefined);
  const durable = new LRUCache<string, true>({ max: options.maxRemembered ?? 200_000 });
  let counts = new Map<string, Counted>();
  let queue: Waiting[] = [];
  let writing = false;

  function count(key: string, row: Disclosure): void {
    const pending = counts.get(key);
    if (pending) pending.count++;
    else if (counts.size < MAX_PENDING_COUNTS) counts.set(key, { ...row, count: 1 });
  }

  async function writeQueued(): Promise<void> {
    writing = true;
    while (queue.length) {
      const batch = queue.slice(0, MAX_BATCH);
      queue = queue.slice(MAX_BATCH);
      // One statement may not touch a row twice: concurrent releases of one row count together.
      const rows = new Map<string, Counted>();
      for (const { row } of batch) {
        const key = disclosureKey(row);
        const seen = rows.get(key);
        if (seen) seen.count++;
        else rows.set(key, { ...row, count: 1 });
      }
      try {
        await insertDisclosures(db, [...rows.values()]);
        for (const w of batch) w.resolve();
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
    writing = false;
  }

  function writeDurably(row: Disclosure): Promise<void> {
    return new Promise((resolve, reject) => {
      queue.push({ row, resolve, reject });
      if (!writing) void writeQueued();
    });
  }

  async function flushCounts(): Promise<void> {
    if (!counts.size) return;
    const taken = counts;
    counts = new Map();
    try {
      await addDisclosureCounts(db, [...taken.values()]);
    } catch (err) {
      onError(err, 'ledger counts not added yet; retrying');
      for (const [key, row] of taken) {
        const pending = counts.get(key);
        if (pending) pending.count += row.count;
        else if (counts.size < MAX_PENDING_COUNTS) counts.set(key, row);
      }
    }
  }

  const timer = setInterval(() => void flushCounts(), options.countFlushMs);
  timer.unref();

  return {
    async record(row) {
      const key = disclosureKey(row);
      if (durable.has(key)) return count(key, row);
      const marker = ledgerMarkerKey(row);
      // A KV failure here is an UnavailableError already: the login fails closed.
      if ((await kv.get(marker)) !== null) {
        durable.set(key, true);
        return count(key, row);
      }
      try {
        await writeDurably(row);
      } catch (err) {
        throw err instanceof UnavailableError ? err : new UnavailableError(err);
      }
      durable.set(key, true);
      // Only saves later writes: without the marker the next login writes (and counts) the row again.
      await kv.set(marker, '1', LEDGER_MARKER_TTL_MS).catch((err: unknown) => onError(err, 'ledger marker not set'));
    },
    forget(studentRef) {
      const prefix = `${studentRef}:`;
      for (const key of durable.keys()) if (key.startsWith(prefix)) durable.delete(key);
      for (const key of counts.keys()) if (key.startsWith(prefix)) counts.delete(key);
    },
    flushCounts,
    async close() {
      clearInterval(timer);
      await flushCounts();
    },
  };
}
