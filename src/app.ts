import cookie from '@fastify/cookie';
import formBody from '@fastify/formbody';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { registerAdmin } from './admin/index.js';
import { answerFrameworkError } from './admin/problem.js';
import { registerAuthorize } from './oidc/authorize.js';
import { registerDiscovery } from './oidc/discovery.js';
import { registerToken } from './oidc/token.js';
import { registerUserinfo } from './oidc/userinfo.js';
import { registerErrorHandling } from './ops/error-handler.js';
import { registerHealth } from './ops/health.js';
import { registerLoadShedding } from './ops/load-shedding.js';
import { listenMetrics, registerMetricsRoute } from './ops/metrics.js';
import { registerDraining } from './ops/shutdown.js';
import { registerSecurityHeaders } from './ops/security-headers.js';
import { serverTimeouts } from './ops/http-timeouts.js';
import type { DisclosureLedger } from './privacy/ledger.js';
import type { RefTransition } from './privacy/ref-transition.js';
import type { RosterService } from './roster/lookup.js';
import { registerSaml } from './saml/index.js';
import { registerSchoolAssertion } from './school/assertion-route.js';
import { registerPicker } from './school/picker.js';
import { createServices, type ServiceDeps, type Services } from './services.js';
import { registerLogout } from './session/logout.js';
import { registerFavicon } from './pages/favicon.js';
import { pageContextFor } from './pages/page.js';
import { noRoster } from './roster/lookup.js';
import { registerOidcCallback } from './upstream-oidc/callback-route.js';
import { registerClientJwks } from './upstream-oidc/client-jwks-route.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** With a database: the ledger and one retention purge run, for tests that move a TestClock. */
    privacy?: { ledger: DisclosureLedger; purgeExpired(): Promise<number>; refTransition: RefTransition };
    /** With a database: the roster as logins read it (docs/roster.md). */
    roster?: RosterService;
  }
}

export type AppDeps = ServiceDeps;

/** Build the gateway from its config and ports: the services first, then the routes on them. main.ts listens; tests build the same app. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const services = createServices(deps);
  const { config, lifecycle, metrics } = services;
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: 64 * 1024,
    // Ids we generate; an inbound header must not choose what our logs say.
    requestIdHeader: false,
    // X-Forwarded-* count only from the configured proxies; the issuer never comes from a header.
    trustProxy: config.TRUST_PROXY.length ? config.TRUST_PROXY : false,
    return503OnClosing: true,
    frameworkErrors: answerFrameworkError,
    ...serverTimeouts(config),
    // One line per request (below) instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
  });
  // One line per request, carrying what the request decided (released claims, refusal code).
  app.decorateRequest('outcome', undefined);
  app.addHook('onResponse', async (request, reply) => {
    request.log.info({ req: request, res: reply, responseTime: Math.round(reply.elapsedTime * 10) / 10, ...request.outcome }, 'request completed');
  });
  app.addHook('onResponse', async (request, reply) => metrics.observeRequest(request, reply));

  app.decorateRequest('product', undefined);
  registerErrorHandling(app, services.issuer, (request) => pageContextFor(services.service, services.registry(), request.product));
  registerFavicon(app);
  registerSecurityHeaders(app, services.issuer.startsWith('https:'));
  await app.register(formBody);
  await app.register(cookie);
  await registerLoadShedding(app, config.MAX_EVENT_LOOP_DELAY_MS, () => metrics.shed());
  registerDraining(app, lifecycle);
  if (config.METRICS_TOKEN) registerMetricsRoute(app, metrics, config.METRICS_TOKEN);
  if (config.METRICS_PORT !== undefined) {
    const port = config.METRICS_PORT;
    // Listens with the app (onReady), so a busy metrics port stops the start like a busy main port.
    app.addHook('onReady', async () => {
      const server = await listenMetrics(metrics, config.METRICS_HOST ?? config.HOST, port);
      lifecycle.onClose(() => new Promise((resolve) => server.close(() => resolve())));
    });
  }
  await registerRoutes(app, services);
  app.addHook('onClose', () => services.close());
  return app;
}

/** Every route, in order, each given the services it uses. */
async function registerRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const { config } = services;
  registerHealth(app, services);
  registerDiscovery(app, services);
  registerAuthorize(app, services);
  registerSchoolAssertion(app, {
    ...services,
    limits: { perAddress: config.RATE_LIMIT_ASSERTION_PER_MIN, perIssuer: config.RATE_LIMIT_ASSERTION_ISSUER_PER_MIN, sessionMaxSeconds: config.SESSION_MAX_SECONDS },
  });
  registerSaml(app, {
    ...services, ...services.saml, roster: services.durable?.roster ?? noRoster,
    limits: { perAddress: config.RATE_LIMIT_ASSERTION_PER_MIN, perIssuer: config.RATE_LIMIT_ASSERTION_ISSUER_PER_MIN, sessionMaxSeconds: config.SESSION_MAX_SECONDS },
  });
  registerOidcCallback(app, {
    ...services,
    providers: services.upstream.providers,
    roster: services.durable?.roster ?? noRoster,
    limits: { perAddress: config.RATE_LIMIT_ASSERTION_PER_MIN, sessionMaxSeconds: config.SESSION_MAX_SECONDS, upstreamTimeoutMs: config.UPSTREAM_OIDC_TIMEOUT_MS },
  });
  registerClientJwks(app, services);
  registerPicker(app, services);
  registerLogout(app, services);
  registerToken(app, { ...services, limits: { perClient: config.RATE_LIMIT_TOKEN_PER_MIN, perAddress: config.RATE_LIMIT_TOKEN_IP_PER_MIN } });
  registerUserinfo(app, services);
  const durable = services.durable;
  if (durable) {
    // Reported, never critical: logins go on from the snapshot while the database is away (docs/failure-behaviour.md).
    services.lifecycle.addReadinessCheck({ name: 'database', critical: false, check: async () => void (await durable.db.query('select 1')) });
    app.decorate('privacy', { ledger: services.ledger, purgeExpired: () => durable.retention.purge(), refTransition: services.refTransition });
    app.decorate('roster', durable.roster);
    await registerAdmin(app, {
      config, clock: services.clock, kv: services.kv, rates: services.rates, db: durable.db, snapshot: durable.sync.snapshot,
      notices: durable.sync.notices, keys: services.keys, forgetting: durable.forgetting, roots: services.roots, roster: durable.roster,
    });
  }
}
