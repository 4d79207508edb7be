import underPressure from '@fastify/under-pressure';
import type { FastifyInstance } from 'fastify';
import { UnavailableError } from '../errors.js';

/**
 * Load shedding: while the event loop lags past `maxDelayMs` (the mean delay
 * over the last second), requests answer 503 with Retry-After and the code
 * temporarily_unavailable through the one error handler, instead of queueing
 * until every caller times out. Routes whose config sets their own
 * pressureHandler (the health probes) are never shed. 0 turns it off.
 */
export async function registerLoadShedding(app: FastifyInstance, maxDelayMs: number, onShed: () => void): Promise<void> {
  if (maxDelayMs === 0) return;
  // Registered outside any zod-compiler scope: set globally, the zod compilers break plugins with JSON-schema routes.
  await app.register(underPressure, {
    maxEventLoopDelay: maxDelayMs,
    pressureHandler: async () => {
      onShed();
      throw new UnavailableError(new Error('event loop delay above MAX_EVENT_LOOP_DELAY_MS'));
    },
  });
}
