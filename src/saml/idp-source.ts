import { request, type Dispatcher } from 'undici';
import type { Clock } from '../clock.js';
import { PageError } from '../errors.js';
import { mediaType, readCapped } from '../outbound/fetch-jwks.js';
import { refreshed } from '../outbound/refreshed.js';
import type { SamlLogin } from '../store/registry.js';
import { readIdpMetadata, type IdpMetadata } from './idp-metadata.js';

// An identity provider's metadata as a login reads it (docs/saml.md,
// "Metadata"): inline XML is read once per registration; a metadataUrl is
// fetched through the gateway's guarded outbound agent (destination policy,
// connect timeout), at most METADATA.maxBytes within METADATA.timeoutMs, no
// redirect followed, and kept METADATA.refreshMs (src/outbound/refreshed.ts).
// A failed fetch keeps the metadata fetched before for up to
// METADATA.maxStaleMs (an identity provider's certificate does not change by
// the minute) and is not repeated for METADATA.retryMs; with nothing usable
// the login is `upstream_unavailable`.

export const METADATA = { maxBytes: 1024 * 1024, timeoutMs: 5_000, refreshMs: 3_600_000, retryMs: 60_000, maxStaleMs: 86_400_000 };
const MEDIA_TYPES = new Set(['application/samlmetadata+xml', 'application/xml', 'text/xml']);

export interface IdpSource {
  metadataOf(login: SamlLogin): Promise<IdpMetadata>;
}

export function idpSource(deps: { dispatcher: Dispatcher; clock: Clock; onFetchError?: (url: string, err: unknown) => void }): IdpSource {
  const inline = new WeakMap<SamlLogin, IdpMetadata>();
  const byUrl = new Map<string, { get(): Promise<IdpMetadata> }>();
  const now = () => deps.clock.now();
  const policy = { maxAgeMs: METADATA.refreshMs, retryMs: METADATA.retryMs, maxStaleMs: METADATA.maxStaleMs };

  const fetched = (url: string, entityId: string) => refreshed(policy, now, async () => {
    try {
      return readIdpMetadata(await fetchMetadata(url, deps.dispatcher), entityId);
    } catch (err) {
      deps.onFetchError?.(url, err);
      throw err;
    }
  });

  return {
    async metadataOf(login) {
      if (login.metadataXml !== undefined) {
        let metadata = inline.get(login);
        if (!metadata) inline.set(login, (metadata = readIdpMetadata(login.metadataXml, login.entityId)));
        return metadata;
      }
      const url = login.metadataUrl!;
      const key = `${login.entityId}\0${url}`;
      let source = byUrl.get(key);
      if (!source) byUrl.set(key, (source = fetched(url, login.entityId)));
      try {
        return await source.get();
      } catch {
        throw new PageError('upstream_unavailable', 503, 'The school login is unavailable', 'saml_metadata_unavailable');
      }
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
