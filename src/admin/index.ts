import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { boundedRoots, type RootSource } from '../crypto/bounded-roots.js';
import type { KeySchedule } from '../crypto/key-schedule.js';
import type { PupilForgetting } from '../privacy/forget-pupil.js';
import { limitByAddress, perMinute, type RateCounter } from '../ops/rate-limit.js';
import type { Db } from '../store/db.js';
import type { Kv } from '../store/kv.js';
import type { RegistryNotices } from '../store/registry-notices.js';
import type { RegistrySnapshot } from '../store/snapshot.js';
import { registerAuditRoutes } from './audit-routes.js';
import { registerAuth, requireAccessRules, type AdminRoute } from './auth.js';
import { registerBreachScopeRoutes } from './breach-scope-routes.js';
import { registerPseudonymJobRoutes } from './pseudonym-job-routes.js';
import { createPupilJobs } from '../privacy/pupil-jobs.js';
import { jobStore } from '../privacy/job-store.js';
import { registerLicenceRoutes } from './licence-routes.js';
import { registerObjectionRoutes } from './objection-routes.js';
import { registerPupilRoutes } from './pupil-routes.js';
import { notFound, registerProblemHandling, sendProblem } from './problem.js';
import { clientResource, schoolResource, supplierResource } from './registration-resources.js';
import { registerRegistrationRoutes } from './registration-routes.js';
import { adminSchemaTransform } from './openapi-bodies.js';
import { registerRosterRoutes } from './roster-routes.js';
import { registerWarmRootsRoutes } from './warm-roots-routes.js';
import { createRosterImports } from '../roster/imports.js';
import type { RosterChanges } from '../roster/lookup.js';
import { registerTokenRoutes } from './token-routes.js';
import { refuseUnstorableText } from './stored-text.js';

// The admin API (README, Admin API; docs/errors.md for its problems) under /admin/v1, in its own scope: the
// zod compilers, the problem+json error handler, the rate limit and the
// OpenAPI collector apply here only, never to the login routes.

export const ADMIN_PREFIX = '/admin/v1';

export interface AdminContext {
  config: Config;
  clock: Clock;
  kv: Kv;
  rates: RateCounter;
  db: Db;
  snapshot: Pick<RegistrySnapshot, 'refresh'>;
  notices: RegistryNotices;
  /** Turns a pupil's key into the student ref and its pseudonyms (objections, access requests, erasure, results, breach scope). */
  keys: KeySchedule;
  forgetting: PupilForgetting;
  /** The pupil root cache logins use: every key the admin API turns into a ref or pseudonym goes through it (and so pre-warms it). */
  roots: RootSource;
  /** Told of every committed roster change (imports, erasure): caches here and in other processes forget. */
  roster: RosterChanges;
}

/** Pupil jobs (resolution, breach scope) running at once in one process; more are refused (503) until one ends. */
const MAX_RUNNING_JOBS = 2;

export async function registerAdmin(app: FastifyInstance, ctx: AdminContext): Promise<void> {
  const routes: AdminRoute[] = [];
  app.decorate('adminRoutes', routes);
  await app.register(async (scope) => {
    scope.setValidatorCompiler(validatorCompiler);
    scope.setSerializerCompiler(serializerCompiler);
    registerProblemHandling(scope);
    // Token secrets and school data: no cache may keep an admin response (RFC 6749 section 5.1; ASVS 14.3.2).
    scope.addHook('onSend', async (_request, reply) => {
      reply.header('cache-control', 'no-store');
    });
    scope.setNotFoundHandler((_request, reply) => sendProblem(reply, notFound()));
    requireAccessRules(scope, ADMIN_PREFIX, routes);
    // Counted by address before the body is read, through the KV (shared by every instance on Redis).
    scope.addHook('onRequest', limitByAddress(ctx.rates, perMinute('admin', ctx.config.RATE_LIMIT_ADMIN_PER_MIN)));
    scope.addHook('preHandler', refuseUnstorableText);
    await scope.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: { title: 'Pseudonym gateway admin API', version: '1' },
        servers: [{ url: ctx.config.ISSUER }],
        components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
        security: [{ bearer: [] }],
      },
      transform: adminSchemaTransform,
    });
    registerAuth(scope, {
      db: ctx.db,
      clock: ctx.clock,
      bootstrapToken: ctx.config.OPERATOR_BOOTSTRAP_TOKEN,
      onBootstrapUse: (request) => {
        if (ctx.config.NODE_ENV === 'production') request.log.warn('OPERATOR_BOOTSTRAP_TOKEN used in production: create an operator token and unset it');
      },
    });

    const deps = { db: ctx.db, snapshot: ctx.snapshot, notices: ctx.notices, log: scope.log, clock: ctx.clock };
    registerRegistrationRoutes(scope, deps, schoolResource);
    registerRegistrationRoutes(scope, deps, supplierResource);
    registerRegistrationRoutes(scope, deps, clientResource);
    registerLicenceRoutes(scope, deps);
    registerTokenRoutes(scope, deps);
    registerAuditRoutes(scope, deps);
    // One bound for every root the admin API derives (docs/resolution-and-breach.md): logins keep the rest of the thread pool.
    const roots = boundedRoots(ctx.roots, ctx.config.RESOLUTION_JOB_CONCURRENCY);
    const pupils = { ...deps, keys: ctx.keys, roots };
    registerObjectionRoutes(scope, pupils);
    registerPupilRoutes(scope, { ...pupils, forgetting: ctx.forgetting, roster: ctx.roster });
    const imports = createRosterImports({ db: ctx.db, keys: ctx.keys, clock: ctx.clock, changes: ctx.roster, onError: (err, what) => scope.log.error({ err }, what) });
    scope.addHook('preClose', () => imports.close());
    // Its own scope: the roster's XML and zip body parsers apply to its routes only.
    await scope.register(async (rosterScope) => registerRosterRoutes(rosterScope, { db: ctx.db, clock: ctx.clock, imports, graceDays: ctx.config.ROSTER_REMOVAL_GRACE_DAYS }));
    const jobs = createPupilJobs({
      store: jobStore(ctx.kv, ctx.config.RESOLUTION_JOB_TTL_SECONDS * 1000), clock: ctx.clock, roots,
      concurrency: ctx.config.RESOLUTION_JOB_CONCURRENCY, maxRunning: MAX_RUNNING_JOBS, onError: (err, what) => scope.log.error({ err }, what),
    });
    // preClose: the jobs record their end while the KV is still open (it closes in onClose).
    scope.addHook('preClose', () => jobs.close());
    registerPseudonymJobRoutes(scope, { db: ctx.db, keys: ctx.keys, jobs });
    registerBreachScopeRoutes(scope, { db: ctx.db, keys: ctx.keys, roots, jobs });
    registerWarmRootsRoutes(scope, { db: ctx.db, keys: ctx.keys, jobs });
    scope.get('/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, () => scope.swagger());
  }, { prefix: ADMIN_PREFIX });
}
