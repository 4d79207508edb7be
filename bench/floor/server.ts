// The floor: the least a server can do and still serve the gateway's login
// over the same wire, as a measuring stick for the benchmark, not a server to
// run. Bare node:http, no framework, and only what the contract cannot do
// without:
// - the four ES256 operations (sign the school login request, verify the
//   school assertion, verify the client assertion, sign the id_token);
// - the PKCE S256 check;
// - the same Redis traffic as the gateway's login, with the gateway's own
//   client, options and single-use step (src/store/kv.ts): one round trip per
//   request, three per login (park the pending login; claim the assertion jti,
//   take the pending login and write code and SSO session; claim the client
//   assertion jti, redeem the code and record the access token).
// Left out on purpose, since each is work the gateway does on top: input
// validation and claim checks, sealing and key hashing, pseudonyms, licences,
// objections and the ledger, rate limits, sessions read back, metrics and logs.
// Whatever the gateway costs above this floor is its own; below it no
// implementation of the contract on this machine and stack can go.
//
// Env: FLOOR_SCHOOL_JWK and FLOOR_CLIENT_JWK (public ES256 JWKs), REDIS_URL.
// Prints `LISTENING <issuer>` once it accepts connections (bench/lib/child.ts).
import { createHash, createPublicKey, generateKeyPairSync, randomBytes, sign, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient, RedisKv } from '../../src/store/redis-kv.js';

const publicKeyFrom = (name: string): KeyObject => {
  const jwk = process.env[name];
  if (!jwk) throw new Error(`${name} (a public JWK, as JSON) is required`);
  return createPublicKey({ key: JSON.parse(jwk) as JsonWebKey, format: 'jwk' });
};
const schoolKey = publicKeyFrom('FLOOR_SCHOOL_JWK');
const clientKey = publicKeyFrom('FLOOR_CLIENT_JWK');
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
// The gateway's own client factory and options (auto-pipelining, timeouts), under a prefix of its own.
const redis = createClient({ kind: 'url', url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' }, { keyPrefix: 'pgw-floor:' });
const kv = new RedisKv(redis);

type Claims = Record<string, string>;
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const randomToken = (): string => randomBytes(32).toString('base64url');
const epoch = (): number => Math.floor(Date.now() / 1000);

function signJws(header: Record<string, string>, payload: Record<string, unknown>): string {
  const input = `${b64({ alg: 'ES256', ...header })}.${b64(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

function verifyJws(token: string | null, key: KeyObject): Claims {
  const dot = token?.lastIndexOf('.') ?? -1;
  if (!token || dot < 0 || !verify('sha256', Buffer.from(token.slice(0, dot)), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(token.slice(dot + 1), 'base64url'))) {
    throw new Error('signature');
  }
  return JSON.parse(Buffer.from(token.slice(token.indexOf('.') + 1, dot), 'base64url').toString()) as Claims;
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  let body = '';
  req.setEncoding('utf8');
  for await (const chunk of req) body += chunk as string;
  return new URLSearchParams(body);
}

interface Pending { readonly clientId: string; readonly redirectUri: string; readonly state: string; readonly nonce: string; readonly challenge: string }

const redirect = (res: ServerResponse, location: string): void => void res.writeHead(303, { location }).end();

async function authorize(issuer: string, query: URLSearchParams, res: ServerResponse): Promise<void> {
  const nonce = randomToken();
  const pending: Pending = {
    clientId: query.get('client_id')!, redirectUri: query.get('redirect_uri')!, state: query.get('state')!,
    nonce: query.get('nonce')!, challenge: query.get('code_challenge')!,
  };
  await redis.set(`txn:${nonce}`, JSON.stringify(pending), 'PX', 300_000);
  const now = epoch();
  const request = signJws({ typ: 'school-login-request+jwt' }, { iss: issuer, aud: 'https://idp.floor.example', nonce, return_to: `${issuer}/school/assertion`, iat: now, exp: now + 300 });
  redirect(res, `https://idp.floor.example/login?request=${request}`);
}

async function assertion(issuer: string, form: URLSearchParams, res: ServerResponse): Promise<void> {
  const claims = verifyJws(form.get('assertion'), schoolKey);
  const code = randomToken();
  const step = await kv.step({
    claim: { key: `ajti:${claims.jti}`, ttlMs: 360_000 },
    take: { key: `txn:${claims.nonce}` },
    put: [
      { key: `code:${code}`, value: `${JSON.stringify({ sub: claims.sub })}~`, ttlMs: 60_000, appendTaken: true },
      { key: `sess:${randomToken()}`, value: JSON.stringify({ sub: claims.sub, school: claims.school }), ttlMs: 3_600_000 },
    ],
  });
  if (!step.fresh || step.taken === null) throw new Error('replayed or unknown');
  const pending = JSON.parse(step.taken) as Pending;
  redirect(res, `${pending.redirectUri}?${new URLSearchParams({ code, state: pending.state, iss: issuer }).toString()}`);
}

async function token(issuer: string, form: URLSearchParams, res: ServerResponse): Promise<void> {
  const client = verifyJws(form.get('client_assertion'), clientKey);
  const accessToken = randomToken();
  const step = await kv.step({
    claim: { key: `cjti:${client.jti}`, ttlMs: 360_000 },
    take: { key: `code:${form.get('code')}`, leave: { value: `redeemed:${accessToken}`, ttlMs: 600_000, usedPrefix: 'redeemed:' } },
    put: [{ key: `at:${accessToken}`, value: '~', ttlMs: 300_000, appendTaken: true }],
  });
  if (!step.fresh) throw new Error('client assertion replayed');
  if (!step.written || step.taken === null) throw new Error('unknown code');
  const cut = step.taken.indexOf('~');
  const grant = { ...(JSON.parse(step.taken.slice(0, cut)) as { sub: string }), ...(JSON.parse(step.taken.slice(cut + 1)) as Pending) };
  if (createHash('sha256').update(form.get('code_verifier') ?? '').digest('base64url') !== grant.challenge) throw new Error('pkce');
  const now = epoch();
  const idToken = signJws({ kid: 'floor' }, { iss: issuer, aud: grant.clientId, sub: grant.sub, nonce: grant.nonce, iat: now, exp: now + 300, auth_time: now });
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify({ access_token: accessToken, token_type: 'Bearer', expires_in: 300, id_token: idToken, scope: 'openid' }));
}

const server = createServer();
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

server.on('request', (req: IncomingMessage, res: ServerResponse) => {
  const url = new URL(req.url ?? '/', issuer);
  const handled =
    url.pathname === '/authorize' ? authorize(issuer, url.searchParams, res)
    : url.pathname === '/school/assertion' ? readForm(req).then((form) => assertion(issuer, form, res))
    : url.pathname === '/token' ? readForm(req).then((form) => token(issuer, form, res))
    : Promise.reject(new Error('not found'));
  // The benchmark counts any other status as a failed login.
  handled.catch((err: unknown) => {
    if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' });
    res.end(`floor: ${err instanceof Error ? err.message : String(err)}`);
  });
});

await redis.connect();
// Exit, not die, on the harness's stop: a V8 CPU profile (BENCH_CPU_PROF) is written only at a normal exit.
process.once('SIGTERM', () => process.exit(0));
process.stdout.write(`LISTENING ${issuer}\n`);
