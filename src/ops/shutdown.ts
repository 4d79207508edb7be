import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Lifecycle } from './lifecycle.js';

/** While draining, every response closes its connection, so keep-alive clients reconnect (through the load balancer) elsewhere. */
export function registerDraining(app: FastifyInstance, lifecycle: Lifecycle): void {
  app.addHook('onSend', async (_request, reply) => {
    if (lifecycle.draining) reply.header('connection', 'close');
  });
}

export interface ShutdownOptions {
  /** How long the instance keeps serving, unready, so load balancers notice before it stops accepting. */
  drainMs: number;
}

/**
 * SIGTERM, in order: readiness fails at once (503 draining); the instance
 * keeps serving for `drainMs`; then it stops accepting connections, closes
 * idle keep-alive ones, answers requests that are in flight, and closes Redis
 * and every registered close hook (app.close()). main.ts bounds the whole by
 * SHUTDOWN_TIMEOUT_MS (close-with-grace exits with 1 when it runs out).
 */
export async function shutDown(app: FastifyInstance, lifecycle: Lifecycle, logger: FastifyBaseLogger, options: ShutdownOptions): Promise<void> {
  lifecycle.startDraining();
  if (options.drainMs > 0) {
    logger.info({ drainMs: options.drainMs }, 'draining: readiness fails, still serving');
    await new Promise((resolve) => setTimeout(resolve, options.drainMs));
  }
  await app.close();
  logger.info('closed: in-flight requests answered, connections and stores closed');
}
