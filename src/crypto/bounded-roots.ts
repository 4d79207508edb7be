import type { RootCache } from './root-cache.js';
import { createSlots } from './slots.js';

// Roots the admin API derives from pupil keys (access requests, objections,
// erasure, breach scope, resolution and breach-scope jobs): through the pupil
// root cache (memory, then the shared KV, then scrypt off the main thread),
// at most `concurrency` at a time in this process for all of them together,
// so logins keep the rest of libuv's thread pool (UV_THREADPOOL_SIZE).

export type RootSource = Pick<RootCache, 'rootFor'>;

/** The same roots, at most `concurrency` derivations at a time; the others wait their turn in order. */
export function boundedRoots(roots: RootSource, concurrency: number): RootSource {
  const slots = createSlots(concurrency);
  // Unbounded waiting: an admin job's pupils queue here, never refused (the root cache bounds scrypt itself).
  return { rootFor: (input) => slots.use(() => roots.rootFor(input))! };
}
