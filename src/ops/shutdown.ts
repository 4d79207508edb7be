import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Lifecycle } from './lifecycle.js';

/**
 * While draining, every response closes its connection, so keep-alive clients
 * reconnect (through the load balancer) elsewhere. Requests are tracked until
 * their response hooks (the log line, the metrics) have run: Node may report
 * the server closed before a last response's 'finish', and the process must
 * not exit before those hooks.
 */
export function registerDraining(app: FastifyInstance, lifecycle: Lifecycle): void {
  app.addHook('onSend', async (_request, reply) => {
    if (lifecycle.draining) reply.header('connection', 'close');
  });
  app.addHook('onRequest', async (request) => lifecycle.requestStarted(request));
  // Registered after the log and metrics hooks, so it runs after them.
  app.addHook('onResponse', async (request) => lifecycle.requestDone(request));
  app.addHook('onRequestAbort', async (request) => lifecycle.requestDone(request));
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
  await lifecycle.requestsDone();
  logger.info('closed: in-flight requests answered, connections and stores closed');
}
