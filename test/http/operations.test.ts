import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lifecycle } from '../../src/ops/lifecycle.js';
import { UnavailableError } from '../../src/errors.js';
import { MemoryKv } from '../../src/store/memory-kv.js';
import { pageOf } from '../helpers/assertion-tests-util.js';
import { get, postForm } from '../helpers/browser.js';
import { makeWorld, REKEN_CB, type World } from '../helpers/fixture.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { freePort } from '../helpers/net.js';
import { parseExposition, valueOf } from '../helpers/prometheus.js';
import { TestPublisher } from '../helpers/publisher.js';

// Health: /healthz is liveness (the process and its event loop),
// /readyz is readiness (KV reachable, snapshot loaded; a database outage alone
// does not make it unready), draining fails readiness; load shedding answers
// 503 + Retry-After while the event loop lags, and never sheds the probes.

let world: World;
beforeAll(async () => {
  world = await makeWorld();
});

describe('health and readiness', () => {
  let gateway: TestGateway;
  let lifecycle: Lifecycle;
  let databaseUp = true;
  let closed: string[];

  beforeAll(async () => {
    lifecycle = new Lifecycle();
    closed = [];
    // The hooks the PostgreSQL store will use: a non-critical readiness check and a close hook.
    lifecycle.addReadinessCheck({ name: 'database', critical: false, check: async () => { if (!databaseUp) throw new Error('down'); } });
    lifecycle.onClose(async () => void closed.push('database'));
    gateway = await startGateway({ seed: world.seed, lifecycle });
  });
  afterAll(async () => gateway?.close());

  it('answers liveness and readiness with every check listed', async () => {
    const live = await get(`${gateway.url}/healthz`);
    expect({ status: live.status, body: await live.json() }).toEqual({ status: 200, body: { status: 'ok' } });
    const ready = await get(`${gateway.url}/readyz`);
    expect(ready.headers.get('cache-control')).toBe('no-store');
    expect({ status: ready.status, body: await ready.json() }).toEqual({
      status: 200,
      body: { status: 'ready', checks: { kv: 'ok', snapshot: 'ok', database: 'ok' } },
    });
  });

  it('stays ready through a database outage, and says so', async () => {
    databaseUp = false;
    try {
      const ready = await get(`${gateway.url}/readyz`);
      expect({ status: ready.status, body: await ready.json() }).toEqual({
        status: 200,
        body: { status: 'ready', checks: { kv: 'ok', snapshot: 'ok', database: 'unavailable' } },
      });
    } finally {
      databaseUp = true;
    }
  });

  it('fails readiness once draining, closes each connection after its response, and runs every close hook on close', async () => {
    const draining = new Lifecycle();
    const order: string[] = [];
    draining.onClose(async () => void order.push('first registered'));
    draining.onClose(async () => {
      order.push('last registered');
      throw new Error('close failed');
    });
    const other = await startGateway({ seed: world.seed, lifecycle: draining });
    try {
      expect((await get(`${other.url}/readyz`)).headers.get('connection')).toBe('keep-alive');
      // What SIGTERM does first (src/ops/shutdown.ts); test/ops/shutdown.redis.test.ts sends the real signal.
      draining.startDraining();
      const ready = await get(`${other.url}/readyz`);
      expect({ status: ready.status, retryAfter: ready.headers.get('retry-after'), body: await ready.json() }).toEqual({ status: 503, retryAfter: '5', body: { status: 'draining' } });
      expect(ready.headers.get('connection')).toBe('close');
      const jwks = await get(`${other.url}/jwks.json`);
      expect(jwks.status).toBe(200);
      expect(jwks.headers.get('connection')).toBe('close');
      expect((await get(`${other.url}/healthz`)).status).toBe(200);
    } finally {
      await other.close();
    }
    // Last registered closes first; a failing close hook is logged and the others still run.
    expect(order).toEqual(['last registered', 'first registered']);
    expect(other.logs.filter((l) => l.includes('"msg":"close hook failed"'))).toHaveLength(1);
  });

  it('is unready while the KV store cannot answer, and counts the failed pings', async () => {
    class DeadKv extends MemoryKv {
      override async ping(): Promise<void> {
        throw new UnavailableError(new Error('connection refused'));
      }
    }
    const metricsPort = await freePort();
    const dead = await startGateway({ seed: world.seed, kv: new DeadKv(), env: { METRICS_PORT: String(metricsPort) } });
    try {
      const ready = await get(`${dead.url}/readyz`);
      expect({ status: ready.status, retryAfter: ready.headers.get('retry-after'), body: await ready.json() }).toEqual({
        status: 503, retryAfter: '5', body: { status: 'unavailable', checks: { kv: 'unavailable', snapshot: 'ok' } },
      });
      expect((await get(`${dead.url}/healthz`)).status).toBe(200);
      const metrics = parseExposition(await (await get(`http://127.0.0.1:${metricsPort}/metrics`)).text());
      expect(valueOf(metrics, 'pgw_kv_errors_total', { operation: 'ping' })).toBe(1);
    } finally {
      await dead.close();
    }
  });
});

describe('load shedding', () => {
  let gateway: TestGateway;
  let reken: TestPublisher;

  beforeAll(async () => {
    // A tiny bound: the mean event-loop delay over a second must stay under 10 ms.
    gateway = await startGateway({ seed: world.seed, env: { MAX_EVENT_LOOP_DELAY_MS: '10', METRICS_TOKEN: 'metrics-token-0123456789-abcdefghijkl' } });
    reken = await TestPublisher.create(gateway.url, 'rekenapp', REKEN_CB, { key: world.rekenKey });
  });
  afterAll(async () => gateway?.close());

  /** The gateway runs in this process: blocking our event loop is blocking its. */
  const blockEventLoop = (ms: number) => {
    const until = Date.now() + ms;
    while (Date.now() < until) { /* busy: the lag under test */ }
  };

  /** Lag the loop, ask the liveness probe, then send `request`; again (bounded) until the request is shed. */
  async function whileLagging(request: () => Promise<Response>): Promise<{ probes: number[]; shed: Response | undefined }> {
    const probes: number[] = [];
    for (let attempt = 0; attempt < 5; attempt++) {
      blockEventLoop(2_000);
      probes.push((await get(`${gateway.url}/healthz`)).status, (await get(`${gateway.url}/readyz`)).status);
      const res = await request();
      if (res.status === 503) return { probes, shed: res };
      await res.body?.cancel();
    }
    return { probes, shed: undefined };
  }

  it('answers 503 + Retry-After with the stable code while the event loop lags, never on the probes, and recovers', async () => {
    const login = await reken.startLogin({ school_hint: '12AB' });
    const page = await whileLagging(() => get(login.url, { accept: 'text/html' }));
    expect(page.shed?.headers.get('retry-after')).toBe('5');
    expect(page.shed?.headers.get('location')).toBeNull();
    expect(await pageOf(page.shed!)).toMatchObject({ status: 503, code: 'temporarily_unavailable', html: true });
    expect(page.probes.every((s) => s === 200)).toBe(true);

    // The token endpoint sheds in its own style (RFC 6749 JSON).
    const token = await whileLagging(() => postForm(`${gateway.url}/token`, { grant_type: 'authorization_code', code: 'x' }));
    expect({ status: token.shed?.status, retryAfter: token.shed?.headers.get('retry-after'), body: await token.shed?.json() }).toMatchObject({
      status: 503, retryAfter: '5', body: { error: 'temporarily_unavailable' },
    });
    expect(token.probes.every((s) => s === 200)).toBe(true);

    const metrics = parseExposition(await (await get(`${gateway.url}/metrics`, { authorization: 'Bearer metrics-token-0123456789-abcdefghijkl' })).text());
    expect(valueOf(metrics, 'pgw_load_shed_total')).toBeGreaterThanOrEqual(2);

    // Once the loop is free again, logins are served (polled, bounded).
    let status = 503;
    for (const deadline = Date.now() + 15_000; status === 503 && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      const res = await get((await reken.startLogin({ school_hint: '12AB' })).url);
      status = res.status;
      await res.body?.cancel();
    }
    expect(status).toBe(303);
    expect(gateway.logs.filter((l) => l.includes('"statusCode":500'))).toEqual([]);
  });
});
