import type { FastifyBaseLogger } from 'fastify';
import { createLocalJWKSet, errors as joseErrors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { LRUCache } from 'lru-cache';
import type { Config } from '../config.js';
import { destinationPolicy } from './destination-policy.js';
import { fetchJwks, JwksFetchError } from './fetch-jwks.js';
import { createGuardedAgent, type Resolve } from './guarded-agent.js';

// A school's or client's remote JWKS (docs/remote-jwks.md): fetched with the
// bounded fetch, kept for 10 minutes, and refetched on an unknown kid at most
// once per 30 s per budget. Two budgets per registration: one any request can
// spend (a stranger can name a client and an unknown kid at /token without
// any credential), and one opened only by a request that proves a stake in the
// registration, e.g. a live authorization code of that client. A stranger's
// refetches therefore never delay a client's first use of a key it has just
// published. Key selection and import stay with jose (createLocalJWKSet).

export const REMOTE_JWKS = {
  /** Between two refetches on an unknown kid, per budget. */
  cooldownMs: 30_000,
  /** A fetched set is used this long, then fetched again. */
  maxAgeMs: 600_000,
  /** The whole fetch: connect, headers, body. */
  timeoutMs: 2_000,
  /** After a failed fetch the endpoint is left alone this long. */
  failedFetchCooldownMs: 5_000,
};

/** A remote JWKS could not be fetched or read: the peer is unavailable, its tokens are not wrong. */
export class KeysUnavailableError extends Error {}

/** jose's key lookup; a remote set adds a variant whose refetch budget only a proven stake opens. */
export type KeyLookup = JWTVerifyGetKey & {
  readonly withStake?: (proveStake: () => Promise<boolean>) => JWTVerifyGetKey;
};

type Budget = 'anyone' | 'stakeholder';

export interface RemoteKeysDeps {
  readonly fetch: (uri: string) => Promise<JSONWebKeySet>;
  readonly now: () => number;
  readonly onFetchError?: (uri: string, err: unknown) => void;
}

class RemoteKeySet {
  private local: JWTVerifyGetKey | undefined;
  private fetchedAt = -Infinity;
  private failedAt = -Infinity;
  private loading: Promise<void> | undefined;
  private readonly refetchedAt: Record<Budget, number> = { anyone: -Infinity, stakeholder: -Infinity };

  constructor(private readonly uri: string, private readonly deps: RemoteKeysDeps) {}

  async select(header: Parameters<JWTVerifyGetKey>[0], token: Parameters<JWTVerifyGetKey>[1], proveStake?: () => Promise<boolean>) {
    if (!this.local || this.deps.now() - this.fetchedAt >= REMOTE_JWKS.maxAgeMs) await this.load();
    try {
      return await this.local!(header, token);
    } catch (err) {
      if (!(err instanceof joseErrors.JWKSNoMatchingKey)) throw err;
      const budget: Budget = proveStake && (await proveStake()) ? 'stakeholder' : 'anyone';
      if (this.deps.now() - this.refetchedAt[budget] < REMOTE_JWKS.cooldownMs) throw err;
      this.refetchedAt[budget] = this.deps.now();
      await this.load();
      return this.local!(header, token);
    }
  }

  /** One fetch at a time; callers arriving meanwhile share it. */
  private load(): Promise<void> {
    this.loading ??= this.fetchNow().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async fetchNow(): Promise<void> {
    if (this.deps.now() - this.failedAt < REMOTE_JWKS.failedFetchCooldownMs) throw new KeysUnavailableError('remote JWKS recently unavailable');
    try {
      this.local = createLocalJWKSet(await this.deps.fetch(this.uri));
      this.fetchedAt = this.deps.now();
    } catch (err) {
      this.failedAt = this.deps.now();
      this.deps.onFetchError?.(this.uri, err);
      throw new KeysUnavailableError('remote JWKS unavailable', { cause: err });
    }
  }
}

/** The key lookup for one remote JWKS URI. */
export function remoteKeys(uri: string, deps: RemoteKeysDeps): KeyLookup {
  const set = new RemoteKeySet(uri, deps);
  const lookup: JWTVerifyGetKey = (header, token) => set.select(header, token);
  return Object.assign(lookup, {
    withStake: (proveStake: () => Promise<boolean>): JWTVerifyGetKey => (header, token) => set.select(header, token, proveStake),
  });
}

export interface RemoteKeySourceOptions {
  /** NODE_ENV=production: https to public addresses only, unless `allow` names the destination. */
  readonly production: boolean;
  readonly allow?: readonly string[];
  readonly onFetchError?: (uri: string, err: unknown) => void;
  /** Tests: a DNS lookup of their own. */
  readonly resolve?: Resolve;
  readonly now?: () => number;
}

/**
 * One process's remote key sets by URI, kept across registry rebuilds, so a
 * change to other registrations neither refetches every JWKS nor resets a
 * cooldown. Two registrations naming one URI share its set.
 */
export function remoteKeySources(options: RemoteKeySourceOptions): (uri: string) => KeyLookup {
  const agent = createGuardedAgent(destinationPolicy(options.production, options.allow), {
    connectTimeoutMs: REMOTE_JWKS.timeoutMs,
    ...(options.resolve ? { resolve: options.resolve } : {}),
  });
  const deps: RemoteKeysDeps = {
    fetch: (uri) => fetchJwks(uri, { dispatcher: agent, timeoutMs: REMOTE_JWKS.timeoutMs }),
    now: options.now ?? (() => Date.now()),
    ...(options.onFetchError ? { onFetchError: options.onFetchError } : {}),
  };
  const sets = new LRUCache<string, KeyLookup>({ max: 10_000 });
  return (uri) => {
    let lookup = sets.get(uri);
    if (!lookup) {
      lookup = remoteKeys(uri, deps);
      sets.set(uri, lookup);
    }
    return lookup;
  };
}

/** The process's remote key sets under its configuration; a failed fetch is logged with its reason, never the body. */
export function remoteKeySourcesFor(config: Pick<Config, 'NODE_ENV' | 'JWKS_URI_ALLOW'>, log: Pick<FastifyBaseLogger, 'warn'>): (uri: string) => KeyLookup {
  return remoteKeySources({
    production: config.NODE_ENV === 'production',
    allow: config.JWKS_URI_ALLOW,
    onFetchError: (uri, err) =>
      log.warn({ jwksUri: uri, reason: err instanceof JwksFetchError ? err.reason : 'invalid_jwks' }, 'remote JWKS fetch failed'),
  });
}
