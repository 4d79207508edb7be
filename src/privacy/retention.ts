import type { Clock } from '../clock.js';
import { schoolDay } from '../release/licence.js';
import type { Queryable } from '../store/db.js';
import { daysBefore, purgeDisclosuresBefore } from './disclosures.js';

// Retention of the disclosure ledger: rows of a school day more than
// LEDGER_RETENTION_DAYS before today (Dutch time) are deleted, by every
// process on its own timer (the DELETE is idempotent, so processes need no
// coordination). A failed run is logged and retried on the next tick.

/** Delete the rows older than `retentionDays` days before the school day of `now`; returns how many. */
export function purgeExpiredDisclosures(db: Queryable, now: number, retentionDays: number): Promise<number> {
  return purgeDisclosuresBefore(db, daysBefore(schoolDay(now), retentionDays));
}

export interface RetentionOptions {
  db: Queryable;
  clock: Clock;
  retentionDays: number;
  intervalMs: number;
  /** The first run, soon after start, so a process that restarts often still purges. */
  firstRunMs?: number;
  onPurged: (count: number) => void;
  onError: (err: unknown) => void;
  /** Other retention on the same timer (the roster's grace period, docs/roster.md), run after the ledger's. */
  alsoPurge?: (now: number) => Promise<unknown>;
}

export interface LedgerRetention {
  /** One run now (also what the timer does). */
  purge(): Promise<number>;
  /** Stops the timer; resolves once a run under way has ended. */
  stop(): Promise<void>;
}

export function startLedgerRetention(options: RetentionOptions): LedgerRetention {
  const purge = async () => {
    const purged = await purgeExpiredDisclosures(options.db, options.clock.now(), options.retentionDays);
    await options.alsoPurge?.(options.clock.now());
    return purged;
  };
  let running: Promise<void> | undefined;
  const run = () => {
    running ??= purge()
      .then(options.onPurged, options.onError)
      .finally(() => {
        running = undefined;
      });
  };
  const first = setTimeout(run, Math.min(options.firstRunMs ?? 5_000, options.intervalMs));
  const timer = setInterval(run, options.intervalMs);
  first.unref();
  timer.unref();
  return {
    purge,
    stop: async () => {
      clearTimeout(first);
      clearInterval(timer);
      await running;
    },
  };
}
