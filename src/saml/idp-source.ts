import { request, type Dispatcher } from 'undici';
import type { Clock } from '../clock.js';
import { PageError } from '../errors.js';
import { mediaType, readCapped } from '../outbound/fetch-jwks.js';
import type { SamlLogin } from '../store/registry.js';
import { readIdpMetadata, type IdpMetadata } from './idp-metadata.js';

// An identity provider's metadata as a login reads it (docs/saml.md,
// "Metadata"): inline XML is read once per registration; a metadataUrl is
// fetched through the gateway's guarded outbound agent (destination policy,
// connect timeout), at most METADATA.maxBytes within METADATA.timeoutMs, no
// redirect followed, and kept METADATA.refreshMs. A failed refresh keeps the
// metadata fetched before for up to METADATA.maxStaleMs (an identity
// provider's certificate does not change by the minute) and is retried after
// METADATA.retryMs; with nothing usable the login is `upstream_unavailable`.

export const METADATA = { maxBytes: 1024 * 1024, timeoutMs: 5_000, refreshMs: 3_600_000, retryMs: 60_000, maxStaleMs: 86_400_000 };
const MEDIA_TYPES = new Set(['application/samlmetadata+xml', 'application/xml', 'text/xml']);

export interface IdpSource {
  metadataOf(login: SamlLogin): Promise<IdpMetadata>;
}

interface Cached {
  metadata?: IdpMetadata;
  fetchedAt: number;
  triedAt: number;
  pending?: Promise<IdpMetadata>;
}

export function idpSource(deps: { dispatcher: Dispatcher; clock: Clock; onFetchError?: (url: string, err: unknown) => void }): IdpSource {
  const inline = new WeakMap<SamlLogin, IdpMetadata>();
  const byUrl = new Map<string, Cached>();

  async function fetchOnce(login: SamlLogin & { metadataUrl: string }, cached: Cached): Promise<IdpMetadata> {
    cached.triedAt = deps.clock.now();
    try {
      const metadata = readIdpMetadata(await fetchMetadata(login.metadataUrl, deps.dispatcher), login.entityId);
      Object.assign(cached, { metadata, fetchedAt: deps.clock.now() });
      return metadata;
    } catch (err) {
      deps.onFetchError?.(login.metadataUrl, err);
      const now = deps.clock.now();
      if (cached.metadata && now < cached.fetchedAt + METADATA.maxStaleMs) return cached.metadata;
      throw new PageError('upstream_unavailable', 503, 'The school login is unavailable', 'saml_metadata_unavailable');
    } finally {
      delete cached.pending;
    }
  }

  return {
    async metadataOf(login) {
      if (login.metadataXml !== undefined) {
        let metadata = inline.get(login);
        if (!metadata) inline.set(login, (metadata = readIdpMetadata(login.metadataXml, login.entityId)));
        return metadata;
      }
      const key = `${login.entityId}\0${login.metadataUrl!}`;
      let cached = byUrl.get(key);
      if (!cached) byUrl.set(key, (cached = { fetchedAt: 0, triedAt: -Infinity }));
      const now = deps.clock.now();
      const fresh = cached.metadata && now < cached.fetchedAt + METADATA.refreshMs;
      const resting = now < cached.triedAt + METADATA.retryMs;
      if (cached.metadata && (fresh || resting)) return cached.metadata;
      cached.pending ??= fetchOnce(login as SamlLogin & { metadataUrl: string }, cached);
      return cached.pending;
    },
  };
}

async function fetchMetadata(url: string, dispatcher: Dispatcher): Promise<string> {
  const response = await request(url, { dispatcher, signal: AbortSignal.timeout(METADATA.timeoutMs), headers: { accept: 'application/samlmetadata+xml, application/xml' } });
  try {
    if (response.statusCode !== 200) throw new Error(`status ${response.statusCode}`);
    if (!MEDIA_TYPES.has(mediaType(response.headers['content-type']))) throw new Error('content type');
    return new TextDecoder('utf-8', { fatal: true }).decode(await readCapped(response.body, METADATA.maxBytes));
  } finally {
    if (!response.body.destroyed) response.body.on('error', () => undefined).destroy();
  }
}
