import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWorld } from '../helpers/fixture.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';

// Slow and idle clients are bounded (src/ops/http-timeouts.ts): a connection
// that sends nothing, a request head or a POST /token body that trickles in, and
// an idle keep-alive connection are each closed within their setting. Before
// these settings, each stayed open for as long as the client liked.

const HEADERS_MS = 1_000;
const REQUEST_MS = 2_000;
const IDLE_MS = 1_500;
/** Node checks the header and request bounds on an interval (a quarter of the shorter one); the rest is scheduling. */
const SLACK_MS = 1_000;

let gateway: TestGateway;
let port: number;

beforeAll(async () => {
  gateway = await startGateway({
    seed: (await makeWorld()).seed,
    env: { HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_MS), HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_MS), HTTP_IDLE_TIMEOUT_MS: String(IDLE_MS) },
  });
  port = Number(new URL(gateway.url).port);
});
afterAll(async () => {
  await gateway?.close();
});

interface RawConnection {
  socket: Socket;
  /** Everything the server sent. */
  received: () => string;
  /** Milliseconds from connect to close, or 'open' if still open after `capMs`. */
  closedAfter: (capMs: number) => Promise<number | 'open'>;
}

async function rawConnection(): Promise<RawConnection> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const opened = Date.now();
  let data = '';
  socket.on('data', (chunk: Buffer) => (data += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - opened)));
  return {
    socket,
    received: () => data,
    closedAfter: async (capMs) => {
      let timer: NodeJS.Timeout | undefined;
      const cap = new Promise<'open'>((resolve) => (timer = setTimeout(() => resolve('open'), capMs)));
      try {
        return await Promise.race([closed, cap]);
      } finally {
        clearTimeout(timer);
        socket.destroy();
      }
    },
  };
}

/** Write `text` one byte every `everyMs`, until the socket closes. */
function trickle(socket: Socket, text: string, everyMs: number): void {
  let i = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || i >= text.length) return clearInterval(timer);
    socket.write(text[i++]!);
  }, everyMs);
  socket.once('close', () => clearInterval(timer));
}

const withinBound = (elapsed: number | 'open', bound: number) => {
  expect(elapsed).not.toBe('open');
  expect(elapsed).toBeGreaterThanOrEqual(bound - 100);
  expect(elapsed).toBeLessThanOrEqual(bound + SLACK_MS);
};

describe('timeouts on slow and idle clients', () => {
  it('closes a connection that sends nothing at the headers timeout', async () => {
    const conn = await rawConnection();
    withinBound(await conn.closedAfter(10_000), HEADERS_MS);
  });

  it('closes a connection whose request head trickles in at the headers timeout, with 408', async () => {
    const conn = await rawConnection();
    trickle(conn.socket, `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ${'a'.repeat(200)}\r\n\r\n`, 50);
    withinBound(await conn.closedAfter(10_000), HEADERS_MS);
    expect(conn.received()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('closes a POST /token whose body trickles in at the request timeout, with 408, and never runs the endpoint', async () => {
    const conn = await rawConnection();
    conn.socket.write('POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 200\r\n\r\n');
    trickle(conn.socket, 'grant_type=authorization_code&code='.padEnd(200, 'x'), 100);
    withinBound(await conn.closedAfter(10_000), REQUEST_MS);
    expect(conn.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(gateway.logs.some((l) => l.includes('"path":"/token"') && l.includes('"statusCode":200'))).toBe(false);
  });

  it('closes an idle keep-alive connection at the idle timeout, after answering its request', async () => {
    const conn = await rawConnection();
    conn.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    const elapsed = await conn.closedAfter(10_000);
    expect(conn.received()).toMatch(/^HTTP\/1\.1 200 /);
    // Node advertises the bound (Keep-Alive: timeout=1) and closes one second after it, so a
    // client that reuses the connection at the advertised last moment does not meet a close.
    expect(conn.received()).toMatch(/\r\nKeep-Alive: timeout=1\r\n/i);
    withinBound(elapsed, IDLE_MS + 1_000);
  });

  it('still serves a request that arrives slowly but within its bounds', async () => {
    const conn = await rawConnection();
    const request = 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n';
    trickle(conn.socket, request, Math.floor((HEADERS_MS * 0.5) / request.length));
    expect(await conn.closedAfter(10_000)).not.toBe('open');
    expect(conn.received()).toMatch(/^HTTP\/1\.1 200 /);
  });
});
