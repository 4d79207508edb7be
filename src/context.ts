import type { Clock } from './clock.js';
import type { Config } from './config.js';
import type { KeySchedule } from './crypto/key-schedule.js';
import type { RootCache } from './crypto/root-cache.js';
import type { SigningKeys } from './crypto/signing-keys.js';
import type { Lifecycle } from './ops/lifecycle.js';
import type { Metrics } from './ops/metrics.js';
import type { RateCounter } from './ops/rate-limit.js';
import type { DisclosureLedger } from './privacy/ledger.js';
import type { RefTransition } from './privacy/ref-transition.js';
import type { Kv } from './store/kv.js';
import type { Registry } from './store/registry.js';

/** What the routes are built from: the config and the ports, nothing global. */
export interface GatewayContext {
  readonly config: Config;
  readonly issuer: string;
  readonly clock: Clock;
  readonly kv: Kv;
  /** The current registration snapshot; replaced as a whole when registrations change. */
  readonly registry: () => Registry;
  readonly keys: KeySchedule;
  readonly roots: RootCache;
  readonly signing: SigningKeys;
  /** Readiness checks and close hooks (the database registers its own here). */
  readonly lifecycle: Lifecycle;
  readonly metrics: Metrics;
  /** Every release is recorded here before its code is handed out (DESIGN.md section 7). */
  readonly ledger: DisclosureLedger;
  /** Moves a pupil's rows from the student ref's first form to the ref, at the pupil's login (docs/pseudonyms.md). */
  readonly refTransition: RefTransition;
  /** Rate-limit counters, shared through the KV. */
  readonly rates: RateCounter;
}
