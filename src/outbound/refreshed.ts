// A value fetched from elsewhere (an identity provider's metadata, an OpenID
// provider's discovery document) and kept: fresh for `maxAgeMs`; one fetch at
// a time, shared by the callers that arrive meanwhile; after a failed fetch
// the source is not asked again for `retryMs` (callers get the last value
// while it is younger than `maxStaleMs`, else the fetch's error at once).

export interface RefreshPolicy {
  /** A value this young is served without asking the source. */
  readonly maxAgeMs: number;
  /** After a failed fetch, the source is left alone this long. */
  readonly retryMs: number;
  /** A value this young is served while its source fails (Infinity: for as long as it fails). */
  readonly maxStaleMs: number;
}

interface State<V> {
  value?: V;
  fetchedAt: number;
  failure?: { at: number; error: Error };
  loading?: Promise<V>;
}

/** `get()` answers from the kept value, or fetches it with `load` under the policy. */
export function refreshed<V>(policy: RefreshPolicy, now: () => number, load: () => Promise<V>): { get(): Promise<V> } {
  const state: State<V> = { fetchedAt: -Infinity };
  const stale = (at: number) => (state.value !== undefined && at - state.fetchedAt < policy.maxStaleMs ? state.value : undefined);

  async function fetchNow(): Promise<V> {
    try {
      const value = await load();
      Object.assign(state, { value, fetchedAt: now() });
      delete state.failure;
      return value;
    } catch (error) {
      const at = now();
      state.failure = { at, error: error instanceof Error ? error : new Error('the fetch failed') };
      const kept = stale(at);
      if (kept !== undefined) return kept;
      throw error;
    } finally {
      delete state.loading;
    }
  }

  return {
    get() {
      const at = now();
      if (state.value !== undefined && at - state.fetchedAt < policy.maxAgeMs) return Promise.resolve(state.value);
      if (state.loading) return state.loading;
      if (state.failure && at - state.failure.at < policy.retryMs) {
        const kept = stale(at);
        return kept !== undefined ? Promise.resolve(kept) : Promise.reject(state.failure.error);
      }
      return (state.loading = fetchNow());
    },
  };
}
