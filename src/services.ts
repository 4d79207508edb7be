import type { FastifyBaseLogger } from 'fastify';
import { serviceName, type ServiceName } from './pages/page.js';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import type { KeySchedule } from './crypto/key-schedule.js';
import { createRootCache, type RootCache } from './crypto/root-cache.js';
import type { SigningKeys } from './crypto/signing-keys.js';
import type { LoginMethods } from './login/methods.js';
import { reportDbErrors } from './ops/db-errors.js';
import { reportKvErrors } from './ops/kv-errors.js';
import { Lifecycle } from './ops/lifecycle.js';
import { createMetrics, type Metrics } from './ops/metrics.js';
import { createRateCounter, type RateCounter } from './ops/rate-limit.js';
import { openPupilForgetting, type PupilForgetting } from './privacy/forget-pupil.js';
import { createLedger, type DisclosureLedger } from './privacy/ledger.js';
import { createRefTransition, noRefTransition, type RefTransition } from './privacy/ref-transition.js';
import { startLedgerRetention, type LedgerRetention } from './privacy/retention.js';
import { openRosterService, type RosterService } from './roster/lookup.js';
import { purgeExpiredRoster } from './roster/retention.js';
import { samlMethod } from './saml/authn-request.js';
import { createSamlServices, type SamlServices } from './saml/index.js';
import { assertionMethod } from './school/login-request.js';
import type { SessionLimits } from './session/session.js';
import type { Db } from './store/db.js';
import type { Kv } from './store/kv.js';
import type { Registry } from './store/registry.js';
import type { RegistrySync } from './store/registry-sync.js';
import { generateUpstreamClientKey, type UpstreamClientKey } from './upstream-oidc/client-key.js';
import { oidcMethod } from './upstream-oidc/method.js';
import { upstreamProviders, type UpstreamProviders } from './upstream-oidc/providers.js';

// What the gateway is built from: the config and the ports come in
// (src/main.ts opens them; tests give their own), createServices builds the
// services the routes use, once, in one place. src/app.ts then registers the
// routes on them; each route takes only the services it uses.

export interface ServiceDeps {
  config: Config;
  logger: FastifyBaseLogger;
  kv: Kv;
  registry: () => Registry;
  keys: KeySchedule;
  signing: SigningKeys;
  clock?: Clock;
  roots?: RootCache;
  /** The database and the snapshot kept from it: enables the admin API; both are closed with the app. */
  durable?: { db: Db; sync: RegistrySync };
  /** Shared with main.ts, which starts draining on SIGTERM. */
  lifecycle?: Lifecycle;
  /** Only for an app without `durable` (tests): where disclosures go. With `durable` the ledger is the database. */
  ledger?: DisclosureLedger;
  /** The private_key_jwt key towards upstream OpenID providers (main.ts: from DATA_DIR); without it, one for this process. */
  upstreamClientKey?: UpstreamClientKey;
}

/** The database side: present when the gateway has its database (always, except in some tests). */
export interface DurableServices {
  readonly db: Db;
  readonly sync: RegistrySync;
  readonly forgetting: PupilForgetting;
  readonly retention: LedgerRetention;
  /** The schools' rosters as a login reads them, and their change notices (docs/roster.md). */
  readonly roster: RosterService;
}

export interface Services {
  readonly config: Config;
  readonly issuer: string;
  readonly clock: Clock;
  /** The hot-state store, its failures counted in the metrics. */
  readonly kv: Kv;
  /** The current registration snapshot; replaced as a whole when registrations change. */
  readonly registry: () => Registry;
  /** The service's name on its pages (SERVICE_NAME). */
  readonly service: ServiceName;
  readonly keys: KeySchedule;
  readonly roots: RootCache;
  readonly signing: SigningKeys;
  /** Readiness checks and close hooks. */
  readonly lifecycle: Lifecycle;
  readonly metrics: Metrics;
  /** Every release is recorded here before its code is handed out (docs/privacy.md). */
  readonly ledger: DisclosureLedger;
  /** Moves a pupil's rows from the student ref's first form to the ref, at the pupil's login (docs/pseudonyms.md). */
  readonly refTransition: RefTransition;
  /** Rate-limit counters, shared through the KV. */
  readonly rates: RateCounter;
  /** How each kind of school logs its people in (docs/school-login.md). */
  readonly methods: LoginMethods;
  /** SAML identity providers' metadata and the gateway's SP keys (docs/saml.md). */
  readonly saml: SamlServices;
  readonly sessionLimits: SessionLimits;
  /** The schools' upstream OpenID providers and the gateway's client key towards them (docs/upstream-oidc.md). */
  readonly upstream: { readonly providers: UpstreamProviders; clientKey(): Promise<UpstreamClientKey> };
  readonly durable?: DurableServices;
  /** Closes what createServices opened, in order; the ports given to it (KV, database) last. */
  close(): Promise<void>;
}

export function createServices(deps: ServiceDeps): Services {
  const { config, logger } = deps;
  // Counted once here, so every use (logins, root cache, readiness) reports its failures.
  const metrics = createMetrics(() => roots.stats);
  const kv = reportKvErrors(deps.kv, (operation) => metrics.kvError(operation));
  const clock = deps.clock ?? systemClock;
  const roots =
    deps.roots ??
    createRootCache(deps.keys, kv, {
      cost: { N: config.PSEUDONYM_SCRYPT_N, r: config.PSEUDONYM_SCRYPT_R, p: config.PSEUDONYM_SCRYPT_P },
      kvTtlMs: config.ROOT_CACHE_TTL_DAYS * 24 * 3600 * 1000,
      scryptConcurrency: config.PSEUDONYM_SCRYPT_CONCURRENCY,
      scryptQueue: config.PSEUDONYM_SCRYPT_QUEUE,
      clock,
      onKvError: (err) => logger.warn({ err }, 'pseudonym root not cached in the KV; the next lookup computes it again'),
    });
  const lifecycle = deps.lifecycle ?? new Lifecycle();
  const db = deps.durable && reportDbErrors(deps.durable.db, (operation) => metrics.dbError(operation));
  const ledger = db
    ? createLedger({ db, kv, countFlushMs: config.LEDGER_COUNT_FLUSH_SECONDS * 1000, onError: (err, what) => logger.warn({ err }, what) })
    : deps.ledger;
  // A release that cannot be recorded must not happen (docs/privacy.md): no ledger, no gateway.
  if (!ledger) throw new Error('a disclosure ledger is required: give the app its database (durable)');
  const refTransition = db ? createRefTransition({ db, onError: (err, what) => logger.warn({ err }, what) }) : noRefTransition;
  // In the background: until it is read, logins move nothing (their rows stay found under both forms).
  void refTransition.load();
  const rates = createRateCounter(kv, clock, (err) => logger.warn({ err }, 'rate-limit counts not shared yet; retrying'));
  const issuer = config.ISSUER;
  const durable = deps.durable && db && {
    db,
    sync: deps.durable.sync,
    forgetting: openPupilForgetting(config, { keys: deps.keys, kv, roots, ledger }, (err) =>
      logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'pupil erasure notices unavailable')),
    retention: startLedgerRetention({
      db, clock, retentionDays: config.LEDGER_RETENTION_DAYS, intervalMs: config.LEDGER_PURGE_INTERVAL_SECONDS * 1000,
      onPurged: (purged) => logger.info({ purged }, 'disclosure ledger retention purge'),
      onError: (err) => logger.warn({ err }, 'disclosure ledger retention purge failed; retried at the next interval'),
      alsoPurge: (now) => purgeExpiredRoster(db, now, config.ROSTER_REMOVAL_GRACE_DAYS),
    }),
    roster: openRosterService(config, { db, keys: deps.keys, clock }, (err) =>
      logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'roster change notices unavailable')),
  };
  const saml = createSamlServices(config, clock, logger);
  const close = async () => {
    refTransition.close();
    if (durable) {
      await durable.retention.stop();
      await durable.forgetting.close();
      await durable.roster.close();
      await durable.sync.close();
      await ledger.close();
      await durable.db.close();
    }
    for (const err of await lifecycle.close()) logger.error({ err }, 'close hook failed');
    // The roots served from memory since the last batch renew their shared lifetime while the KV is open.
    await roots.close();
    await rates.close();
    await kv.close();
  };
  let upstreamKey: Promise<UpstreamClientKey> | undefined = deps.upstreamClientKey && Promise.resolve(deps.upstreamClientKey);
  const clientKey = (): Promise<UpstreamClientKey> => (upstreamKey ??= generateUpstreamClientKey());
  const upstream = {
    clientKey,
    providers: upstreamProviders({ timeoutMs: config.UPSTREAM_OIDC_TIMEOUT_MS, production: config.NODE_ENV === 'production', allow: config.JWKS_URI_ALLOW, clientKey }),
  };
  return {
    config, issuer, clock, kv, registry: deps.registry, service: serviceName(config.SERVICE_NAME), keys: deps.keys, roots, signing: deps.signing, lifecycle, metrics, ledger, refTransition, rates,
    methods: {
      assertion: assertionMethod({ issuer, clock, signing: deps.signing }),
      oidc: oidcMethod({ issuer, providers: upstream.providers, timeoutMs: config.UPSTREAM_OIDC_TIMEOUT_MS }),
      saml: samlMethod({ issuer, ...saml }),
    },
    saml,
    upstream,
    sessionLimits: { idleMs: config.SESSION_IDLE_SECONDS * 1000, maxMs: config.SESSION_MAX_SECONDS * 1000 },
    ...(durable ? { durable } : {}),
    close,
  };
}
