import { createServer, type Server } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RootCache } from '../crypto/root-cache.js';
import { constantEqual } from '../crypto/tokens.js';
import { bearerCredentials } from '../http/bearer.js';
import type { KvOperation } from './kv-errors.js';

// Prometheus metrics (docs/operations.md lists them). Every label value comes
// from a fixed set: route templates, HTTP methods, status classes and our own
// error codes, so no pupil key, school, token or other request value can
// reach a label.

export interface Metrics {
  readonly registry: Registry;
  observeRequest(request: FastifyRequest, reply: FastifyReply): void;
  kvError(operation: KvOperation): void;
  /** For the PostgreSQL store: count a failed database operation (a fixed operation name). */
  dbError(operation: string): void;
  shed(): void;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The login step a route serves, counted in pgw_login_outcomes_total (a fixed set: the routes name it). */
    loginStep?: 'authorize' | 'picker' | 'assertion' | 'callback' | 'token' | 'userinfo';
  }
}
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const CODE = /^[a-z][a-z_]{0,63}$/;

/** `rootStats` is read at scrape time. */
export function createMetrics(rootStats: () => RootCache['stats']): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const duration = new Histogram({
    name: 'pgw_http_request_duration_seconds',
    help: 'HTTP request duration by route template, method and status class',
    labelNames: ['route', 'method', 'status_class'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const logins = new Counter({
    name: 'pgw_login_outcomes_total',
    help: 'Login steps by step and outcome: success or the stable error code',
    labelNames: ['step', 'outcome'] as const,
    registers: [registry],
  });
  const kvErrors = new Counter({ name: 'pgw_kv_errors_total', help: 'Failed KV store operations', labelNames: ['operation'] as const, registers: [registry] });
  const dbErrors = new Counter({ name: 'pgw_db_errors_total', help: 'Failed database operations', labelNames: ['operation'] as const, registers: [registry] });
  const shed = new Counter({ name: 'pgw_load_shed_total', help: 'Requests refused with 503 because the event loop lagged', registers: [registry] });
  new Counter({
    name: 'pgw_pseudonym_root_lookups_total',
    help: 'Pseudonym root lookups by where the root came from: memory (in-process LRU), kv (shared cache) or computed (scrypt)',
    labelNames: ['source'] as const,
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ source: 'memory' }, rootStats().memoryHits);
      this.inc({ source: 'kv' }, rootStats().kvHits);
      this.inc({ source: 'computed' }, rootStats().computed);
    },
  });
  new Counter({
    name: 'pgw_pseudonym_scrypt_refused_total',
    help: 'Cold pseudonym-root derivations refused (503) because PSEUDONYM_SCRYPT_CONCURRENCY runs and PSEUDONYM_SCRYPT_QUEUE waits were taken',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(rootStats().scryptRefused);
    },
  });
  new Gauge({
    name: 'pgw_pseudonym_scrypt_in_flight',
    help: 'scrypt derivations running or queued on the libuv thread pool',
    registers: [registry],
    collect() {
      this.set(rootStats().scryptInFlight);
    },
  });
  return {
    registry,
    observeRequest(request, reply) {
      const route = request.routeOptions.url ?? 'unmatched';
      const method = METHODS.has(request.method) ? request.method : 'other';
      const statusClass = `${Math.floor(reply.statusCode / 100)}xx`;
      duration.observe({ route, method, status_class: statusClass }, reply.elapsedTime / 1000);
      const step = request.routeOptions.config.loginStep;
      if (step) logins.inc({ step, outcome: outcomeOf(request, reply.statusCode) });
    },
    kvError: (operation) => kvErrors.inc({ operation }),
    dbError: (operation) => dbErrors.inc({ operation: CODE.test(operation) ? operation : 'other' }),
    shed: () => shed.inc(),
  };
}

/** The refusal code the error handler recorded, else what the status says. */
function outcomeOf(request: FastifyRequest, status: number): string {
  const code = request.outcome?.code;
  if (typeof code === 'string') return CODE.test(code) ? code : 'other';
  if (status === 503) return 'temporarily_unavailable';
  if (status >= 500) return 'server_error';
  return status < 400 ? 'success' : 'other';
}

/** /metrics on the main port, only with METRICS_TOKEN as a bearer token (compared in constant time). */
export function registerMetricsRoute(app: FastifyInstance, metrics: Metrics, token: string): void {
  app.get('/metrics', { config: { pressureHandler: () => undefined } }, async (request, reply) => {
    const credentials = bearerCredentials(request.headers.authorization, 512);
    reply.header('cache-control', 'no-store');
    if (!('token' in credentials) || !constantEqual(credentials.token, token)) {
      return reply.code(401).header('www-authenticate', 'Bearer realm="metrics"').send({ error: 'invalid_token', error_description: 'A valid metrics token is required' });
    }
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
}

/** A separate listener that serves only GET /metrics: Prometheus scrapes it on an internal network. */
export async function listenMetrics(metrics: Metrics, host: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || req.url?.split('?', 1)[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(req.method === 'HEAD' ? undefined : text),
      () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
