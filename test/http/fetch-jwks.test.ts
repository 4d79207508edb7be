import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { destinationPolicy } from '../../src/outbound/destination-policy.js';
import { fetchJwks, MAX_JWKS_BYTES, type JwksFetchFailure } from '../../src/outbound/fetch-jwks.js';
import { createGuardedAgent, type Resolve } from '../../src/outbound/guarded-agent.js';
import { JwksServer } from '../helpers/jwks-server.js';

// The bounded fetch of a remote JWKS through the guarded agent
// (docs/remote-jwks.md), against JWKS endpoints on loopback. Production
// rules are exercised on loopback addresses, which they refuse like any
// other non-public address: no test here sends a packet off this machine.

const KEY = { kty: 'EC', crv: 'P-256', kid: 'k1', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' };
const JWKS = JSON.stringify({ keys: [KEY] });

let server: JwksServer;
let base: string;
let second: JwksServer;

beforeAll(async () => {
  server = new JwksServer();
  server
    .serve('/jwks', () => [KEY])
    .route('/chunked-big', (_req, res) => {
      // No content-length: the cap is enforced while reading.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(`{"keys":[${JSON.stringify(KEY)}],"pad":"`);
      const chunk = 'x'.repeat(16 * 1024);
      for (let i = 0; i < 64; i++) res.write(chunk);
      res.end('"}');
    })
    .route('/declared-big', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(MAX_JWKS_BYTES + 1) });
      res.end(JWKS.padEnd(MAX_JWKS_BYTES + 1, ' '));
    })
    .route('/redirect', (_req, res) => res.writeHead(302, { location: '/jwks' }).end())
    .route('/html', (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(JWKS))
    .route('/no-type', (_req, res) => res.writeHead(200).end(JWKS))
    .route('/not-json', (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys": [ '))
    .route('/keys-not-objects', (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys": [1, "two"]}'))
    .route('/hang', () => undefined)
    .route('/trickle', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const timer = setInterval(() => res.write(' '), 200);
      res.on('close', () => clearInterval(timer));
    });
  base = await server.listen();
  second = new JwksServer('127.0.0.2');
  second.serve('/jwks', () => [KEY]);
  await second.listen();
});

afterAll(async () => {
  await server?.close();
  await second?.close();
});

const development = createGuardedAgent(destinationPolicy(false), { connectTimeoutMs: 2_000 });
const production = createGuardedAgent(destinationPolicy(true), { connectTimeoutMs: 2_000 });

async function failureOf(promise: Promise<unknown>): Promise<JwksFetchFailure | 'fetched'> {
  try {
    await promise;
    return 'fetched';
  } catch (err) {
    return (err as { reason: JwksFetchFailure }).reason;
  }
}

describe('what is read', () => {
  const fetchDev = (path: string, timeoutMs = 2_000) => fetchJwks(`${base}${path}`, { dispatcher: development, timeoutMs });

  it('a JWKS served as application/json', async () => {
    expect(await fetchDev('/jwks')).toEqual({ keys: [KEY] });
  });

  it.each<[string, JwksFetchFailure]>([
    ['/chunked-big', 'too_large'],
    ['/declared-big', 'too_large'],
    ['/redirect', 'status'],
    ['/missing', 'status'],
    ['/html', 'content_type'],
    ['/no-type', 'content_type'],
    ['/not-json', 'not_jwks'],
    ['/keys-not-objects', 'not_jwks'],
  ])('%s -> %s', async (path, reason) => {
    expect(await failureOf(fetchDev(path))).toBe(reason);
  });

  it('a redirect is not followed', async () => {
    const before = server.count('/jwks');
    await failureOf(fetchDev('/redirect'));
    expect(server.count('/jwks')).toBe(before);
  });

  it.each(['/hang', '/trickle'])('%s: the time limit covers headers and body', async (path) => {
    expect(await failureOf(fetchDev(path, 300))).toBe('timeout');
  });
});

describe('where it may come from with NODE_ENV=production', () => {
  // A server of its own: a late connection from the tests above cannot be counted as one made here.
  let target: JwksServer;
  let targetBase: string;
  beforeAll(async () => {
    target = new JwksServer();
    target.serve('/jwks', () => [KEY]);
    targetBase = await target.listen();
  });
  afterAll(async () => {
    await target?.close();
  });

  it.each([
    ['http to 127.0.0.1', () => `${targetBase}/jwks`],
    ['https to 127.0.0.1', () => `https://127.0.0.1:${target.port}/jwks`],
    ['https to a decimal spelling of 127.0.0.1', () => `https://2130706433:${target.port}/jwks`],
    ['https to a hex spelling of 127.0.0.1', () => `https://0x7f.0.0.1:${target.port}/jwks`],
    ['https to an IPv4-mapped IPv6 127.0.0.1', () => `https://[::ffff:127.0.0.1]:${target.port}/jwks`],
    ['https to [::1]', () => `https://[::1]:${target.port}/jwks`],
    ['https to localhost', () => `https://localhost:${target.port}/jwks`],
  ])('%s: refused before connecting', async (_name, url) => {
    const connections = target.connections;
    expect(await failureOf(fetchJwks(url(), { dispatcher: production, timeoutMs: 2_000 }))).toBe('destination_refused');
    expect(target.connections).toBe(connections);
  });

  it('a name whose lookup answers a loopback address is refused at connect time', async () => {
    const resolve: Resolve = async () => [{ address: '127.0.0.1', family: 4 }];
    const agent = createGuardedAgent(destinationPolicy(true, []), { connectTimeoutMs: 2_000, resolve });
    const connections = target.connections;
    expect(await failureOf(fetchJwks(`https://keys.school.example:${target.port}/jwks`, { dispatcher: agent, timeoutMs: 2_000 }))).toBe('destination_refused');
    expect(target.connections).toBe(connections);
  });

  it('a name with one allowed and one refused address is refused as a whole', async () => {
    const resolve: Resolve = async () => [{ address: '127.0.0.2', family: 4 }, { address: '127.0.0.1', family: 4 }];
    const agent = createGuardedAgent(destinationPolicy(true, ['127.0.0.2/32']), { connectTimeoutMs: 2_000, resolve });
    expect(await failureOf(fetchJwks(`http://keys.school.example:${second.port}/jwks`, { dispatcher: agent, timeoutMs: 2_000 }))).toBe('destination_refused');
    expect(second.count('/jwks')).toBe(0);
  });

  it('DNS rebinding: every connection is checked on the address it connects to', async () => {
    // First the name points at an allowed address, then it is rebound to a refused one.
    const answers = ['127.0.0.2', '127.0.0.1'];
    let lookups = 0;
    const resolve: Resolve = async () => [{ address: answers[Math.min(lookups++, 1)]!, family: 4 }];
    const agent = createGuardedAgent(destinationPolicy(true, ['127.0.0.2/32']), { connectTimeoutMs: 2_000, resolve });
    const url = `http://rebind.school.example:${second.port}/jwks`;
    expect(await fetchJwks(url, { dispatcher: agent, timeoutMs: 2_000 })).toEqual({ keys: [KEY] });
    const connections = target.connections;
    expect(await failureOf(fetchJwks(url, { dispatcher: agent, timeoutMs: 2_000 }))).toBe('destination_refused');
    expect(lookups).toBe(2);
    expect(second.count('/jwks')).toBe(1);
    expect(target.connections).toBe(connections);
  });

  it('an allow-listed host name is fetched over http on loopback', async () => {
    const resolveLocal: Resolve = async () => [{ address: '127.0.0.1', family: 4 }];
    const pinned = createGuardedAgent(destinationPolicy(true, ['localhost']), { connectTimeoutMs: 2_000, resolve: resolveLocal });
    expect(await fetchJwks(`http://localhost:${target.port}/jwks`, { dispatcher: pinned, timeoutMs: 2_000 })).toEqual({ keys: [KEY] });
    await pinned.close();
  });
});
