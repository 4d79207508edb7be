import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get } from '../helpers/browser.js';
import { CANARY_PUPIL, CANARY_PUPIL_VALUES, canaryLogins } from '../helpers/canary-logins.js';
import { makeWorld, REKEN_CB, TAAL_CB, type World } from '../helpers/fixture.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { freePort } from '../helpers/net.js';
import { parseExposition, valueOf, type Exposition } from '../helpers/prometheus.js';
import { TestPublisher } from '../helpers/publisher.js';

// Metrics: Prometheus text on a separate port (or behind a bearer
// token on the main port), labelled by route template and stable codes only.
// A full login with canary values leaves none of them in the exposition.

const METRICS_TOKEN = 'metrics-token-0123456789-abcdefghijkl';

describe('metrics', () => {
  let world: World;
  let gateway: TestGateway;
  let metricsUrl: string;
  let reken: TestPublisher;
  let taal: TestPublisher;

  const scrape = async (): Promise<{ text: string; exposition: Exposition }> => {
    const res = await get(metricsUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    return { text, exposition: parseExposition(text) };
  };

  beforeAll(async () => {
    world = await makeWorld();
    const port = await freePort();
    metricsUrl = `http://127.0.0.1:${port}/metrics`;
    gateway = await startGateway({ seed: world.seed, env: { METRICS_PORT: String(port), METRICS_HOST: '127.0.0.1' } });
    reken = await TestPublisher.create(gateway.url, 'rekenapp', REKEN_CB, { key: world.rekenKey });
    taal = await TestPublisher.create(gateway.url, 'taalapp', TAAL_CB, { secret: world.taalSecret });
  });
  afterAll(async () => gateway?.close());

  it('serves only /metrics on the metrics port, and nothing at /metrics on the main port without METRICS_TOKEN', async () => {
    expect((await get(metricsUrl.replace('/metrics', '/healthz'))).status).toBe(404);
    expect((await get(`${gateway.url}/metrics`)).status).toBe(404);
    const { exposition } = await scrape();
    // Default process metrics are there.
    expect(exposition.types.get('process_cpu_user_seconds_total')).toBe('counter');
    expect(exposition.types.get('nodejs_eventloop_lag_seconds')).toBe('gauge');
  });

  it('counts a full login by step and outcome, by route template, and the root cache; no canary value in any label', async () => {
    const pupil = CANARY_PUPIL;
    const canaries: string[] = [...CANARY_PUPIL_VALUES, world.taalSecret];
    const before = (await scrape()).exposition;

    canaries.push(...(await canaryLogins(gateway, world.regenboog, [reken, taal], pupil, {
      state: 'CANARYSTATE-2', nonce: 'CANARYNONCE-2', basicAuth: `Basic ${Buffer.from(`taalapp:${world.taalSecret}`).toString('base64')}`,
    })));
    // Client-chosen paths: unknown routes share one label.
    for (const path of ['/no-such-CANARYPATH-1', '/no-such-CANARYPATH-2']) expect((await get(`${gateway.url}${path}`)).status).toBe(404);
    canaries.push('CANARYPATH');

    const { text, exposition } = await scrape();
    for (const canary of canaries) expect(text, `metrics contain ${canary.slice(0, 24)}`).not.toContain(canary);
    expect(text).not.toContain('12AB');

    const delta = (name: string, labels: Record<string, string>) => valueOf(exposition, name, labels) - valueOf(before, name, labels);
    expect(delta('pgw_login_outcomes_total', { step: 'authorize', outcome: 'success' })).toBe(2);
    expect(delta('pgw_login_outcomes_total', { step: 'assertion', outcome: 'success' })).toBe(2);
    expect(delta('pgw_login_outcomes_total', { step: 'assertion', outcome: 'assertion_replayed' })).toBe(2);
    expect(delta('pgw_login_outcomes_total', { step: 'token', outcome: 'success' })).toBe(2);
    expect(delta('pgw_login_outcomes_total', { step: 'token', outcome: 'invalid_grant' })).toBe(2);
    expect(delta('pgw_login_outcomes_total', { step: 'userinfo', outcome: 'success' })).toBe(2);
    expect(delta('pgw_http_request_duration_seconds_count', { route: '/token', method: 'POST', status_class: '2xx' })).toBe(2);
    expect(delta('pgw_http_request_duration_seconds_count', { route: 'unmatched', method: 'GET', status_class: '4xx' })).toBe(2);
    // One pupil, first seen here: one scrypt run, then in-process hits (both suppliers share the root).
    expect(delta('pgw_pseudonym_root_lookups_total', { source: 'computed' })).toBe(1);
    expect(delta('pgw_pseudonym_root_lookups_total', { source: 'memory' })).toBeGreaterThanOrEqual(1);
    expect(valueOf(exposition, 'pgw_pseudonym_scrypt_in_flight')).toBe(0);
    expect(exposition.types.get('pgw_kv_errors_total')).toBe('counter');
    expect(exposition.types.get('pgw_db_errors_total')).toBe('counter');

    // Every label value of our own families comes from a fixed vocabulary.
    for (const s of exposition.samples.filter((x) => x.name.startsWith('pgw_'))) {
      for (const [label, value] of Object.entries(s.labels)) {
        if (label === 'route') expect(value === 'unmatched' || value.startsWith('/'), value).toBe(true);
        else if (label === 'le') expect(value === '+Inf' || Number(value) > 0, value).toBe(true);
        else expect(value, `${s.name}{${label}}`).toMatch(/^([a-z][a-z_]{0,63}|[1-5]xx|GET|POST|HEAD)$/);
      }
    }
  });
});

describe('metrics behind a token on the main port', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startGateway({ seed: (await makeWorld()).seed, env: { METRICS_TOKEN } });
  });
  afterAll(async () => gateway?.close());

  it('refuses /metrics without the bearer token or with a wrong one, and serves it with the token', async () => {
    for (const headers of [{}, { authorization: `Bearer ${METRICS_TOKEN}x` }, { authorization: `Basic ${METRICS_TOKEN}` }]) {
      const res = await get(`${gateway.url}/metrics`, headers);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
      expect(await res.text()).not.toContain('pgw_');
    }
    const res = await get(`${gateway.url}/metrics`, { authorization: `Bearer ${METRICS_TOKEN}` });
    expect(res.status).toBe(200);
    expect(parseExposition(await res.text()).types.get('pgw_login_outcomes_total')).toBe('counter');
  });
});
