import type { FastifyInstance } from 'fastify';
import { RETRY_AFTER_SECONDS } from '../errors.js';
import type { Kv } from '../store/kv.js';
import type { Registry } from '../store/registry.js';
import type { Lifecycle, ReadinessCheck } from './lifecycle.js';

/** A check that hangs counts as failed: a probe must answer within its own timeout. */
const CHECK_TIMEOUT_MS = 2_000;

// Liveness (/healthz) never looks at dependencies: it answers while the process
// and its event loop do. Readiness (/readyz) asks whether a login could succeed
// here now, and fails from the first shutdown signal on. Neither is shed under
// load (src/ops/load-shedding.ts): probes must see the truth, not the shedding.
export interface HealthDeps {
  readonly kv: Pick<Kv, 'ping'>;
  readonly registry: () => Registry;
  readonly lifecycle: Lifecycle;
}

export function registerHealth(app: FastifyInstance, ctx: HealthDeps): void {
  const { lifecycle } = ctx;
  const builtIn: ReadinessCheck[] = [
    { name: 'kv', critical: true, check: () => ctx.kv.ping() },
    // The registration snapshot logins read; a loader that has not finished throws.
    { name: 'snapshot', critical: true, check: async () => void ctx.registry() },
  ];
  const unshed = { pressureHandler: () => undefined };

  app.get('/healthz', { config: unshed }, async () => ({ status: 'ok' }));
  app.get('/readyz', { config: unshed }, async (_request, reply) => {
    reply.header('cache-control', 'no-store');
    if (lifecycle.draining) return reply.code(503).header('retry-after', String(RETRY_AFTER_SECONDS)).send({ status: 'draining' });
    const checks = [...builtIn, ...lifecycle.readinessChecks];
    const results = await Promise.all(checks.map(async (c) => ({ c, ok: await passes(c) })));
    const ready = results.every(({ c, ok }) => ok || !c.critical);
    const body = { status: ready ? 'ready' : 'unavailable', checks: Object.fromEntries(results.map(({ c, ok }) => [c.name, ok ? 'ok' : 'unavailable'])) };
    if (!ready) reply.code(503).header('retry-after', String(RETRY_AFTER_SECONDS));
    return body;
  });
}

async function passes(check: ReadinessCheck): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([check.check(), timeout]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
