import type { Config } from '../config.js';
import type { KeySchedule } from '../crypto/key-schedule.js';
import type { RootCache } from '../crypto/root-cache.js';
import { rootCacheKey } from '../crypto/pseudonym.js';
import type { Kv } from '../store/kv.js';
import { openNotices } from '../store/notices.js';
import type { DisclosureLedger } from './ledger.js';

// What a gateway holds of a pupil outside the database, forgotten on erasure:
// the ledger's KV markers and the cached root in the shared KV, and the root
// and remembered ledger rows in every process's memory. Other processes hear
// of it on <REDIS_KEY_PREFIX>pupil-erased, carrying the student ref and the
// root's cache key (keyed hashes, never the pupil's key). Pub/sub is not
// stored: a process disconnected at that moment keeps its copies until they
// fall out of its LRUs, which costs at most an unrecorded repeat of a row
// already erased (see docs/privacy.md).

export const PUPIL_ERASED = 'pupil-erased';

export interface PupilForgetting {
  /** The shared KV: the given ledger markers and the cached root. Throws when the KV cannot answer. */
  forgetShared(input: Buffer, markers: readonly string[]): Promise<void>;
  /** This process's memory now, every other process's through a notice (best effort); `ref` is the pupil's student ref. */
  forgetInProcesses(input: Buffer, ref: string): Promise<void>;
  close(): Promise<void>;
}

export interface ForgettingDeps {
  keys: KeySchedule;
  kv: Pick<Kv, 'del'>;
  roots: Pick<RootCache, 'forget' | 'forgetCached'>;
  ledger: Pick<DisclosureLedger, 'forget'>;
}

interface ErasedNotice {
  ref: string;
  cacheKey: string;
}

function parseNotice(message: string): ErasedNotice | undefined {
  try {
    const { ref, cacheKey } = JSON.parse(message) as Partial<ErasedNotice>;
    if (typeof ref === 'string' && /^[0-9a-f]{64}$/.test(ref) && typeof cacheKey === 'string' && /^[A-Za-z0-9_-]{43}$/.test(cacheKey)) return { ref, cacheKey };
  } catch {
    // Not ours: ignored below.
  }
  return undefined;
}

export function openPupilForgetting(config: Config, deps: ForgettingDeps, onError: (err: unknown) => void): PupilForgetting {
  const { keys, kv, roots, ledger } = deps;
  const forgetHere = ({ ref, cacheKey }: ErasedNotice) => {
    roots.forgetCached(cacheKey);
    ledger.forget(ref);
  };
  const notices = openNotices(config, PUPIL_ERASED, {
    onMessage: (message) => {
      const notice = parseNotice(message);
      if (notice) forgetHere(notice);
      else onError(new Error('malformed pupil-erased notice ignored'));
    },
    onError,
  });
  return {
    async forgetShared(input, markers) {
      for (const marker of markers) await kv.del(marker);
      await roots.forget(input);
    },
    async forgetInProcesses(input, ref) {
      const notice = { ref, cacheKey: rootCacheKey(keys, input) };
      forgetHere(notice);
      await notices.publish(JSON.stringify(notice));
    },
    close: () => notices.close(),
  };
}
