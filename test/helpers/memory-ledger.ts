import { UnavailableError } from '../../src/errors.js';
import type { Disclosure } from '../../src/privacy/disclosures.js';
import type { DisclosureLedger } from '../../src/privacy/ledger.js';

/** A ledger for gateways built without a database: keeps every recorded release, in order; can be made to fail. */
export interface MemoryLedger extends DisclosureLedger {
  readonly recorded: Disclosure[];
  failing: boolean;
}

export function memoryLedger(): MemoryLedger {
  const ledger: MemoryLedger = {
    recorded: [],
    failing: false,
    async record(disclosure) {
      // As the real ledger does when its database is away.
      if (ledger.failing) throw new UnavailableError(new Error('ledger down'));
      ledger.recorded.push(disclosure);
    },
    forget: () => undefined,
    flushCounts: async () => undefined,
    close: async () => undefined,
  };
  return ledger;
}
