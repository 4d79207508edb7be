// Baseline server for the login benchmark: panva's oidc-provider running its
// own complete authorization-code flow, configured like our gateway: one
// private_key_jwt client, ES256 signatures, PKCE, and login and consent that
// complete at once (our gateway's school assertion stands in for them).
// Prints `LISTENING <issuer>` once it accepts connections (see bench/lib/child.ts).
//
// Env: BENCH_CLIENT_JWK, the client's public ES256 key as a JSON JWK.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import type { JWK } from 'jose';
import type { Configuration } from 'oidc-provider';
import { ACCOUNT_ID, CLIENT_ID, REDIRECT_URI } from './constants.js';

// oidc-provider prints notices (in-memory adapter, Node 20 not being its
// supported LTS, default TTLs) through console.info and console.warn, some of
// them while its module loads, hence the dynamic import below. This process
// has nothing else to say there; errors still reach console.error.
console.info = console.warn = () => undefined;
const { default: Provider } = await import('oidc-provider');
const { default: MemoryAdapter } = await import('oidc-provider/lib/adapters/memory_adapter.js');
const { default: LRU } = await import('oidc-provider/lib/helpers/lru.js');

// oidc-provider's own in-memory adapter over its own LRU, with a larger bound.
// The default (1,000 entries for all models together) lets an entry outlive
// only 1,000 to 2,000 later writes; a login writes about ten, so at a few
// hundred logins per second any pause of half a second could evict an
// interaction between its two requests and fail that login (it failed a full
// benchmark run once). 5,000 outlasts pauses of two seconds. Same code per
// operation; in alternating rounds against the default bound its logins per
// CPU-second stayed within the rounds' noise (medians 498 and 472).
const store = new LRU({ maxSize: 5_000 });

const clientJwkText = process.env.BENCH_CLIENT_JWK;
if (!clientJwkText) throw new Error('BENCH_CLIENT_JWK (the client public JWK, as JSON) is required');
const clientJwk = JSON.parse(clientJwkText) as JWK;

const { privateKey } = await generateKeyPair('ES256', { extractable: true });
const signingJwk: JWK = { ...(await exportJWK(privateKey)), alg: 'ES256', use: 'sig' };

const configuration: Configuration = {
  clients: [
    {
      client_id: CLIENT_ID,
      redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'ES256',
      id_token_signed_response_alg: 'ES256',
      jwks: { keys: [clientJwk] },
    },
  ],
  jwks: { keys: [signingJwk] },
  findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
  features: { devInteractions: { enabled: false } },
  // 9.13's default requires PKCE of public clients only; the gateway requires it of all.
  pkce: { required: () => true },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  adapter: (model: string) => new MemoryAdapter(model, store),
};

// The issuer must contain the port, so listen on an ephemeral port first and
// attach the request handler once the provider exists.
const server = createServer();
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const { port } = server.address() as AddressInfo;
const provider = new Provider(`http://127.0.0.1:${port}`, configuration);
const providerCallback = provider.callback();

/** Stands in for the login and consent pages: signs in ACCOUNT_ID and grants `openid`. */
async function completeInteraction(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  const clientId = details.params.client_id;
  if (typeof clientId !== 'string') throw new Error('interaction has no client_id');
  const grant = new provider.Grant({ accountId: ACCOUNT_ID, clientId });
  grant.addOIDCScope('openid');
  const grantId = await grant.save();
  // Answers 303 to the authorization resume endpoint.
  await provider.interactionFinished(
    req,
    res,
    { login: { accountId: ACCOUNT_ID }, consent: { grantId } },
    { mergeWithLastSubmission: false },
  );
}

server.on('request', (req: IncomingMessage, res: ServerResponse) => {
  if (req.method === 'GET' && req.url?.startsWith('/interaction/')) {
    completeInteraction(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`interaction failed: ${err instanceof Error ? err.message : String(err)}`);
    });
  } else {
    // Koa's callback handles its own errors; the promise never rejects.
    void providerCallback(req, res);
  }
});

process.stdout.write(`LISTENING ${provider.issuer}\n`);
