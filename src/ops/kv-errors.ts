import type { Kv } from '../store/kv.js';

export type KvOperation = Exclude<keyof Kv, 'close'>;

/** The same KV, reporting each failed operation by name (for the kv error counter); results and errors pass through. */
export function reportKvErrors(kv: Kv, onError: (operation: KvOperation) => void): Kv {
  const watch = <T>(operation: KvOperation, pending: Promise<T>): Promise<T> =>
    pending.catch((err: unknown) => {
      onError(operation);
      throw err;
    });
  return {
    get: (key) => watch('get', kv.get(key)),
    set: (key, value, ttlMs) => watch('set', kv.set(key, value, ttlMs)),
    setIfAbsent: (key, value, ttlMs) => watch('setIfAbsent', kv.setIfAbsent(key, value, ttlMs)),
    take: (key) => watch('take', kv.take(key)),
    swap: (key, value, ttlMs) => watch('swap', kv.swap(key, value, ttlMs)),
    del: (key) => watch('del', kv.del(key)),
    touch: (key, ttlMs) => watch('touch', kv.touch(key, ttlMs)),
    increment: (key, ttlMs, by) => watch('increment', kv.increment(key, ttlMs, by)),
    step: (step) => watch('step', kv.step(step)),
    ping: () => watch('ping', kv.ping()),
    close: () => kv.close(),
  };
}
