// A counting semaphore: at most `size` tasks run at once; up to `maxWaiting`
// more wait for a turn, in order. A task that would wait beyond that is
// refused (use() returns undefined), so a burst is shed at once instead of
// queueing without bound.

export interface Slots {
  /** Runs the task in its turn; undefined when too many already wait. */
  use<T>(task: () => Promise<T>): Promise<T> | undefined;
  readonly waiting: number;
}

export function createSlots(size: number, maxWaiting = Number.POSITIVE_INFINITY): Slots {
  let free = size;
  const queue: (() => void)[] = [];
  async function run<T>(task: () => Promise<T>, turn: Promise<void> | undefined): Promise<T> {
    if (turn) await turn;
    try {
      return await task();
    } finally {
      const next = queue.shift();
      if (next) next();
      else free++;
    }
  }
  return {
    use(task) {
      if (free > 0) {
        free--;
        return run(task, undefined);
      }
      if (queue.length >= maxWaiting) return undefined;
      return run(task, new Promise<void>((resolve) => queue.push(resolve)));
    },
    get waiting() {
      return queue.length;
    },
  };
}
