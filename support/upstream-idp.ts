import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import type { ClientMetadata, Configuration } from 'oidc-provider';

// A school's upstream OpenID provider for tests, the demo and the bench: panva's
// oidc-provider (a certified OpenID provider) on a loopback port, standing in for
// Microsoft Entra ID, Google Workspace or a school administration system's own
// provider. Its login page lists the accounts (a real one asks for a password)
// and has a cancel button (error=access_denied). Tests can re-sign the id_token
// the token endpoint returns (tamperIdToken) and slow every answer (delayMs).

// oidc-provider prints development notices (in-memory adapter, dev defaults) through
// console.info/warn while loading and starting; they say nothing about what runs here.
const quiet = async <T>(work: () => Promise<T>): Promise<T> => {
  const { info, warn } = console;
  console.info = console.warn = () => undefined;
  try {
    return await work();
  } finally {
    Object.assign(console, { info, warn });
  }
};
const { default: Provider } = await quiet(() => import('oidc-provider'));

export interface UpstreamAccount {
  /** The provider's `sub`. */
  readonly id: string;
  /** Further claims of the id_token: oid, tid, hd, email, preferred_username, given_name, family_name. */
  readonly claims: Readonly<Record<string, string>>;
  /** The login page's button text. */
  readonly label?: string;
}

export interface UpstreamIdpOptions {
  readonly clients: readonly ClientMetadata[];
  readonly accounts: readonly UpstreamAccount[];
  /** A fixed port (the demo); else an ephemeral one. */
  readonly port?: number;
  /** The login page's heading. */
  readonly title?: string;
}

export interface UpstreamIdp {
  readonly issuer: string;
  /** The provider's signing key (its kid is the one in its JWKS). */
  readonly signingKey: { readonly privateKey: CryptoKey; readonly kid: string };
  /** Re-sign each id_token the token endpoint hands out (tests of the relying party's checks). */
  tamperIdToken?: ((idToken: string) => Promise<string>) | undefined;
  /** Wait this long before answering any request (a slow provider). */
  delayMs: number;
  /** Stop listening and drop every open connection (a provider that is down). */
  close(): Promise<void>;
}

const CLAIMS = {
  openid: ['sub', 'oid', 'tid', 'hd'],
  email: ['email', 'email_verified'],
  profile: ['given_name', 'family_name', 'preferred_username', 'name'],
};

const esc = (value: string): string => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  let body = '';
  for await (const chunk of req) body += String(chunk);
  return new URLSearchParams(body);
}

export async function startUpstreamIdp(options: UpstreamIdpOptions): Promise<UpstreamIdp> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = `upstream-${randomBytes(4).toString('hex')}`;
  const signingJwk: JWK = { ...(await exportJWK(privateKey)), kid, alg: 'ES256', use: 'sig' };
  const accounts = new Map(options.accounts.map((a) => [a.id, a]));

  const configuration: Configuration = {
    // Signed with the provider's one key (ES256) unless a client says otherwise.
    clients: options.clients.map((c) => ({ id_token_signed_response_alg: 'ES256', ...c })),
    jwks: { keys: [signingJwk] },
    findAccount: (_ctx, sub) => {
      const account = accounts.get(sub);
      return account && { accountId: sub, claims: () => ({ sub, ...account.claims }) };
    },
    claims: CLAIMS,
    // Scope claims in the id_token itself, as Entra ID and Google put tid, hd and email there.
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    pkce: { required: () => true },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    // The provider refuses to fetch from special-use addresses (its SSRF guard); here the gateway,
    // whose private_key_jwt JWKS it reads, is on loopback by design.
    fetch: (url, { dispatcher: _guarded, ...options }) => fetch(url, options),
  };

  const server: Server = createServer();
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const provider = await quiet(async () => new Provider(`http://127.0.0.1:${port}`, configuration));
  const callback = provider.callback();

  const idp: UpstreamIdp = {
    issuer: provider.issuer,
    signingKey: { privateKey, kid },
    delayMs: 0,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };

  /** The token endpoint's JSON answer, its id_token replaced (the provider writes it with one end()). */
  function tamperTokenAnswer(res: ServerResponse, tamper: (idToken: string) => Promise<string>): void {
    const end = res.end.bind(res) as (chunk?: unknown) => ServerResponse;
    res.end = ((chunk?: unknown) => {
      const text = Buffer.isBuffer(chunk) || typeof chunk === 'string' ? chunk.toString() : '';
      const answer = (text.startsWith('{') ? JSON.parse(text) : {}) as { id_token?: string };
      if (typeof answer.id_token !== 'string') return end(chunk);
      void tamper(answer.id_token).then((idToken) => {
        const body = JSON.stringify({ ...answer, id_token: idToken });
        res.setHeader('content-length', Buffer.byteLength(body));
        end(body);
      });
      return res;
    }) as ServerResponse['end'];
  }

  async function loginPage(req: IncomingMessage, res: ServerResponse, uid: string): Promise<void> {
    await provider.interactionDetails(req, res);
    const buttons = options.accounts
      .map((a) => `<li><button type="submit" name="account" value="${esc(a.id)}">Inloggen als ${esc(a.label ?? a.id)}</button></li>`)
      .join('\n');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html lang="nl"><head><meta charset="utf-8"><title>${esc(options.title ?? 'Inloggen')}</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}button{font:inherit;padding:.4rem .8rem;margin:.2rem}</style></head>
<body><h1>${esc(options.title ?? 'Inloggen')}</h1><p>Kies een account. <span lang="en">Pick an account (made-up people; a real provider asks for a password).</span></p>
<form method="post" action="/interaction/${esc(uid)}/login"><ul>${buttons}</ul></form>
<form method="post" action="/interaction/${esc(uid)}/abort"><button type="submit" id="cancel">Annuleren / Cancel</button></form></body></html>`);
  }

  async function finishLogin(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    const accountId = (await readForm(req)).get('account') ?? '';
    if (!accounts.has(accountId)) {
      res.writeHead(400).end('unknown account');
      return;
    }
    const grant = new provider.Grant({ accountId, clientId: String(details.params.client_id) });
    grant.addOIDCScope(String(details.params.scope));
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { login: { accountId }, consent: { grantId } }, { mergeWithLastSubmission: false });
  }

  const abort = (req: IncomingMessage, res: ServerResponse) =>
    provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'End-User aborted interaction' }, { mergeWithLastSubmission: false });

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const match = /^\/interaction\/([A-Za-z0-9_-]+)(\/login|\/abort)?$/.exec(req.url ?? '');
    const handle = async () => {
      if (idp.delayMs > 0) await new Promise((r) => setTimeout(r, idp.delayMs));
      if (req.method === 'GET' && match && !match[2]) return loginPage(req, res, match[1]!);
      if (req.method === 'POST' && match?.[2] === '/login') return finishLogin(req, res);
      if (req.method === 'POST' && match?.[2] === '/abort') return abort(req, res);
      if (req.method === 'POST' && req.url === '/token' && idp.tamperIdToken) tamperTokenAnswer(res, idp.tamperIdToken);
      return callback(req, res);
    };
    handle().catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`interaction failed: ${err instanceof Error ? err.message : String(err)}`);
    });
  });
  return idp;
}

/** The id_token with its payload changed, signed again with `key` (the provider's own key keeps the signature valid). */
export async function resignIdToken(idToken: string, change: (payload: JWTPayload) => JWTPayload, key: { privateKey: CryptoKey; kid: string }): Promise<string> {
  const header = decodeProtectedHeader(idToken);
  return new SignJWT(change(decodeJwt(idToken))).setProtectedHeader({ ...header, alg: 'ES256', kid: key.kid }).sign(key.privateKey);
}
