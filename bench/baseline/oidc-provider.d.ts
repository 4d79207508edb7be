// oidc-provider ships no type declarations and @types/oidc-provider is not a
// dependency of this project yet. This declares only what the baseline and the
// upstream provider of support/upstream-idp.ts use,
// with the names and shapes of @types/oidc-provider, so the code is unchanged
// when this file is deleted in favour of that package.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';
  import type { JWK } from 'jose';

  export interface UnknownObject {
    [key: string]: unknown;
  }

  export interface ClientMetadata {
    client_id: string;
    redirect_uris?: string[];
    grant_types?: string[];
    response_types?: string[];
    token_endpoint_auth_method?: string;
    client_secret?: string;
    jwks_uri?: string;
    token_endpoint_auth_signing_alg?: string;
    id_token_signed_response_alg?: string;
    jwks?: { keys: JWK[] };
  }

  export interface AccountClaims {
    sub: string;
    [key: string]: unknown;
  }

  export interface Account {
    accountId: string;
    claims(use: string, scope: string): AccountClaims | Promise<AccountClaims>;
  }

  export interface Configuration {
    clients?: ClientMetadata[];
    jwks?: { keys: JWK[] };
    findAccount?: (ctx: unknown, sub: string) => Account | undefined | Promise<Account | undefined>;
    features?: { devInteractions?: { enabled?: boolean } };
    claims?: Record<string, string[]>;
    conformIdTokenClaims?: boolean;
    fetch?: (url: string, options: RequestInit & { dispatcher?: unknown }) => Promise<Response>;
    interactions?: { url?: (ctx: unknown, interaction: Interaction) => string };
    pkce?: { required?: (ctx: unknown, client: unknown) => boolean };
    cookies?: { keys?: string[] };
    adapter?: (model: string) => unknown;
  }

  export interface InteractionResults {
    login?: { accountId: string };
    consent?: { grantId?: string };
    error?: string;
    error_description?: string;
  }

  export interface Interaction {
    uid: string;
    params: UnknownObject;
    returnTo: string;
  }

  export interface Grant {
    addOIDCScope(scope: string): undefined;
    save(): Promise<string>;
  }

  export default class Provider {
    constructor(issuer: string, configuration?: Configuration);
    readonly issuer: string;
    readonly Grant: new (properties?: { clientId?: string; accountId?: string }) => Grant;
    callback(): (req: IncomingMessage, res: ServerResponse) => Promise<void>;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<Interaction>;
    interactionFinished(
      req: IncomingMessage,
      res: ServerResponse,
      result: InteractionResults,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<void>;
  }
}

// The bundled development adapter and its LRU (no package exports, so importable by path).
declare module 'oidc-provider/lib/helpers/lru.js' {
  export default class LRU {
    constructor(options: { maxSize: number });
  }
}

declare module 'oidc-provider/lib/adapters/memory_adapter.js' {
  import type LRU from 'oidc-provider/lib/helpers/lru.js';
  export default class MemoryAdapter {
    constructor(model: string, store: LRU, clockTolerance?: number);
  }
}
