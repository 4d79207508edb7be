import type { RootCache } from './root-cache.js';

// Roots the admin API derives from pupil keys (access requests, objections,
// erasure, breach scope, resolution and breach-scope jobs): through the pupil
// root cache (memory, then the shared KV, then scrypt off the main thread),
// at most `concurrency` at a time in this process for all of them together,
// so logins keep the rest of libuv's thread pool (UV_THREADPOOL_SIZE).

export type RootSource = Pick<RootCache, 'rootFor'>;

/** The same roots, at most `concurrency` derivations at a time; the others wait their turn in order. */
export function boundedRoots(roots: RootSource, concurrency: number): RootSource {
  const slots = createSlots(concurrency);
  return { rootFor: (input) => slots.use(() => roots.rootFor(input)) };
}

function createSlots(size: number) {
  let free = size;
  const waiting: (() => void)[] = [];
  return {
    async use<T>(task: () => Promise<T>): Promise<T> {
      if (free > 0) free--;
      else await new Promise<void>((resolve) => waiting.push(resolve));
      try {
        return await task();
      } finally {
        const nextTask = waiting.shift();
        if (nextTask) nextTask();
        else free++;
      }
    },
  };
}
