import cookie from '@fastify/cookie';
import formBody from '@fastify/formbody';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import type { GatewayContext } from './context.js';
import type { KeySchedule } from './crypto/key-schedule.js';
import { createRootCache, type RootCache } from './crypto/root-cache.js';
import type { SigningKeys } from './crypto/signing-keys.js';
import { registerAuthorize } from './oidc/authorize.js';
import { registerDiscovery } from './oidc/discovery.js';
import { registerToken } from './oidc/token.js';
import { registerUserinfo } from './oidc/userinfo.js';
import { registerErrorHandling } from './ops/error-handler.js';
import { registerHealth } from './ops/health.js';
import { reportKvErrors } from './ops/kv-errors.js';
import { Lifecycle } from './ops/lifecycle.js';
import { registerLoadShedding } from './ops/load-shedding.js';
import { reportDbErrors } from './ops/db-errors.js';
import { createMetrics, listenMetrics, registerMetricsRoute } from './ops/metrics.js';
import { registerDraining } from './ops/shutdown.js';
import { createRateCounter } from './ops/rate-limit.js';
import { registerSecurityHeaders } from './ops/security-headers.js';
import { registerSchoolAssertion } from './school/assertion-route.js';
import { registerPicker } from './school/picker.js';
import { registerLogout } from './session/logout.js';
import type { Kv } from './store/kv.js';
import type { Registry } from './store/registry.js';
import { registerAdmin } from './admin/index.js';
import type { Db } from './store/db.js';
import type { RegistrySync } from './store/registry-sync.js';
import { createLedger, type DisclosureLedger } from './privacy/ledger.js';
import { openPupilForgetting } from './privacy/forget-pupil.js';
import { createRefTransition, noRefTransition, type RefTransition } from './privacy/ref-transition.js';
import { startLedgerRetention } from './privacy/retention.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** With a database: the ledger and one retention purge run, for tests that move a TestClock. */
    privacy?: { ledger: DisclosureLedger; purgeExpired(): Promise<number>; refTransition: RefTransition };
  }
}

export interface AppDeps {
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
}

/** Build the gateway from its config and ports. main.ts listens; tests build the same app. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, logger } = deps;
  // Counted once here, so every use (logins, root cache, readiness) reports its failures.
  const metrics = createMetrics(() => roots.stats);
  const kv = reportKvErrors(deps.kv, (operation) => metrics.kvError(operation));
  const clock = deps.clock ?? systemClock;
  const roots =
    deps.roots ??
    createRootCache(deps.keys, kv, {
      cost: { N: config.PSEUDONYM_SCRYPT_N, r: config.PSEUDONYM_SCRYPT_R, p: config.PSEUDONYM_SCRYPT_P },
      onKvError: (err) => logger.warn({ err }, 'pseudonym cache unavailable, computing'),
    });
  const lifecycle = deps.lifecycle ?? new Lifecycle();
  const durable = deps.durable;
  const db = durable && reportDbErrors(durable.db, (operation) => metrics.dbError(operation));
  const ledger = db
    ? createLedger({ db, kv, countFlushMs: config.LEDGER_COUNT_FLUSH_SECONDS * 1000, onError: (err, what) => logger.warn({ err }, what) })
    : deps.ledger;
  // A release that cannot be recorded must not happen (DESIGN.md section 7): no ledger, no app.
  if (!ledger) throw new Error('a disclosure ledger is required: give the app its database (durable)');
  const refTransition = db ? createRefTransition({ db, onError: (err, what) => logger.warn({ err }, what) }) : noRefTransition;
  const rates = createRateCounter(kv, clock, (err) => logger.warn({ err }, 'rate-limit counts not shared yet; retrying'));
  const ctx: GatewayContext = { config, issuer: config.ISSUER, clock, kv, registry: deps.registry, keys: deps.keys, roots, signing: deps.signing, lifecycle, metrics, ledger, refTransition, rates };

  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: 64 * 1024,
    // Ids we generate; an inbound header must not choose what our logs say.
    requestIdHeader: false,
    // X-Forwarded-* count only from the configured proxies; the issuer never comes from a header.
    trustProxy: config.TRUST_PROXY.length ? config.TRUST_PROXY : false,
    return503OnClosing: true,
    // One line per request (below) instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
  });
  // One line per request, carrying what the request decided (released claims, refusal code).
  app.decorateRequest('outcome', undefined);
  app.addHook('onResponse', async (request, reply) => {
    request.log.info({ req: request, res: reply, responseTime: Math.round(reply.elapsedTime * 10) / 10, ...request.outcome }, 'request completed');
  });

  app.addHook('onResponse', async (request, reply) => ctx.metrics.observeRequest(request, reply));

  registerErrorHandling(app, ctx.issuer);
  registerSecurityHeaders(app, ctx.issuer.startsWith('https:'));
  await app.register(formBody);
  await app.register(cookie);
  await registerLoadShedding(app, config.MAX_EVENT_LOOP_DELAY_MS, () => ctx.metrics.shed());
  registerDraining(app, lifecycle);
  if (config.METRICS_TOKEN) registerMetricsRoute(app, ctx.metrics, config.METRICS_TOKEN);
  if (config.METRICS_PORT !== undefined) {
    const port = config.METRICS_PORT;
    // Listens with the app (onReady), so a busy metrics port stops the start like a busy main port.
    app.addHook('onReady', async () => {
      const server = await listenMetrics(ctx.metrics, config.METRICS_HOST ?? config.HOST, port);
      lifecycle.onClose(() => new Promise((resolve) => server.close(() => resolve())));
    });
  }

  registerHealth(app, ctx);
  registerDiscovery(app, ctx);
  registerAuthorize(app, ctx);
  registerSchoolAssertion(app, ctx);
  registerPicker(app, ctx);
  registerLogout(app, ctx);
  registerToken(app, ctx);
  registerUserinfo(app, ctx);
  if (durable && db) {
    // Reported, never critical: logins go on from the snapshot while the database is away (DESIGN.md section 9).
    lifecycle.addReadinessCheck({ name: 'database', critical: false, check: async () => void (await db.query('select 1')) });
    const forgetting = openPupilForgetting(config, { keys: deps.keys, kv, roots, ledger }, (err) =>
      logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'pupil erasure notices unavailable'));
    const retention = startLedgerRetention({
      db, clock, retentionDays: config.LEDGER_RETENTION_DAYS, intervalMs: config.LEDGER_PURGE_INTERVAL_SECONDS * 1000,
      onPurged: (purged) => logger.info({ purged }, 'disclosure ledger retention purge'),
      onError: (err) => logger.warn({ err }, 'disclosure ledger retention purge failed; retried at the next interval'),
    });
    // In the background: until it is read, logins move nothing (their rows stay found under both forms).
    void refTransition.load();
    app.decorate('privacy', { ledger, purgeExpired: () => retention.purge(), refTransition });
    await registerAdmin(app, { config, clock, kv, rates, db, snapshot: durable.sync.snapshot, notices: durable.sync.notices, keys: deps.keys, forgetting, roots });
    app.addHook('onClose', async () => {
      await retention.stop();
      refTransition.close();
      await forgetting.close();
      await durable.sync.close();
      await ledger.close();
      await durable.db.close();
    });
  }

  app.addHook('onClose', async () => {
    for (const err of await lifecycle.close()) logger.error({ err }, 'close hook failed');
    await rates.close();
    await kv.close();
  });
  return app;
}
