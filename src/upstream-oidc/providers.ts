import { LRUCache } from 'lru-cache';
import * as client from 'openid-client';
import { fetch as undiciFetch } from 'undici';
import { destinationPolicy } from '../outbound/destination-policy.js';
import { refreshed } from '../outbound/refreshed.js';
import { createGuardedAgent, type Resolve } from '../outbound/guarded-agent.js';
import type { OidcLogin } from '../store/registry.js';
import type { UpstreamClientKey } from './client-key.js';

// The gateway as relying party of the schools' upstream OpenID providers
// (docs/upstream-oidc.md). openid-client does the protocol; this module keeps
// one openid-client Configuration per registration: the provider's metadata
// from discovery, kept UPSTREAM_METADATA.maxAgeMs and then discovered again
// (src/outbound/refreshed.ts; the
// provider's keys are cached inside it by openid-client: at most 300 s, and
// refetched on an unknown kid at most once a minute). Every request to a
// provider goes through the outbound destination policy (src/outbound/) and
// ends within the configured time.

export const UPSTREAM_METADATA = {
  /** Discovery is repeated after this long, so a provider's changed endpoints are seen. */
  maxAgeMs: 3_600_000,
  /** After a failed discovery the provider is not asked again for this long: logins fail at once. */
  failedCooldownMs: 5_000,
};

// A provider that was known keeps serving its last metadata while it fails.
const POLICY = { maxAgeMs: UPSTREAM_METADATA.maxAgeMs, retryMs: UPSTREAM_METADATA.failedCooldownMs, maxStaleMs: Infinity };

export class UpstreamUnavailableError extends Error {
  constructor(reason: string, options?: ErrorOptions) {
    super(`upstream OpenID provider unavailable: ${reason}`, options);
    this.name = 'UpstreamUnavailableError';
  }
}

export interface UpstreamProvidersOptions {
  /** The whole of one outbound request (connect, answer, body). */
  readonly timeoutMs: number;
  /** NODE_ENV=production: https to public addresses only, unless `allow` names the destination. */
  readonly production: boolean;
  readonly allow?: readonly string[];
  readonly clientKey: () => Promise<UpstreamClientKey>;
  readonly now?: () => number;
  /** Tests: a DNS lookup of their own. */
  readonly resolve?: Resolve;
}

export interface UpstreamProviders {
  /** The relying-party configuration for a school's registration, discovered or cached. */
  configFor(login: OidcLogin): Promise<client.Configuration>;
}

export function upstreamProviders(options: UpstreamProvidersOptions): UpstreamProviders {
  const now = options.now ?? (() => Date.now());
  const agent = createGuardedAgent(destinationPolicy(options.production, options.allow), {
    connectTimeoutMs: options.timeoutMs,
    keepAlive: true,
    ...(options.resolve ? { resolve: options.resolve } : {}),
  });
  // undici's own fetch, so the guarded agent is the one the request uses.
  const boundedFetch: client.CustomFetch = (url, init) => undiciFetch(url, { ...init, dispatcher: agent } as Parameters<typeof undiciFetch>[1]);
  const sources = new LRUCache<string, { get(): Promise<client.Configuration> }>({ max: 10_000 });

  async function clientAuth(login: OidcLogin): Promise<client.ClientAuth> {
    switch (login.clientAuth) {
      case 'private_key_jwt': {
        const key = await options.clientKey();
        return client.PrivateKeyJwt({ key: key.privateKey, kid: key.kid });
      }
      case 'client_secret_post':
        return client.ClientSecretPost(login.clientSecret);
      case 'client_secret_basic':
        return client.ClientSecretBasic(login.clientSecret);
    }
  }

  async function discover(login: OidcLogin): Promise<client.Configuration> {
    try {
      return await client.discovery(new URL(login.issuer), login.clientId, undefined, await clientAuth(login), {
        [client.customFetch]: boundedFetch,
        timeout: options.timeoutMs / 1000,
        execute: [
          // The id_token's signature is checked against the provider's JWKS even though it came
          // straight from the token endpoint (OIDC Core 3.1.3.7 makes that optional; we do not).
          client.enableNonRepudiationChecks,
          // http only reaches here for a loopback issuer (docs/registrations.md) outside production.
          ...(login.issuer.startsWith('http:') ? [client.allowInsecureRequests] : []),
        ],
      });
    } catch (err) {
      throw new UpstreamUnavailableError('discovery failed', { cause: err });
    }
  }

  return {
    configFor(login) {
      const key = JSON.stringify([login.issuer, login.clientId, login.clientAuth, login.clientSecret ?? '']);
      let source = sources.get(key);
      if (!source) sources.set(key, (source = refreshed(POLICY, now, () => discover(login))));
      return source.get();
    },
  };
}
