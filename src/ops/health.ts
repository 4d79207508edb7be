import type { FastifyInstance } from 'fastify';
import type { GatewayContext } from '../context.js';
import { RETRY_AFTER_SECONDS } from '../errors.js';

/** Liveness never checks dependencies; readiness asks whether a login could succeed now. */
export function registerHealth(app: FastifyInstance, ctx: GatewayContext): void {
  app.get('/healthz', () => Promise.resolve({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    try {
      await ctx.kv.ping();
      return { status: 'ready' };
    } catch {
      return reply.code(503).header('retry-after', String(RETRY_AFTER_SECONDS)).send({ status: 'unavailable', kv: 'unreachable' });
    }
  });
}
