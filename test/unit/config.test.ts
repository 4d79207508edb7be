import { describe, expect, it } from 'vitest';
import { ConfigError, describeConfig, loadConfig } from '../../src/config.js';
import { redisTarget } from '../../src/store/open-kv.js';

describe('configuration (docs/registrations.md)', () => {
  it('runs on embedded defaults with an empty environment', () => {
    const cfg = loadConfig({});
    expect(cfg).toMatchObject({ HOST: '127.0.0.1', PORT: 3000, ISSUER: 'http://localhost:3000', DATA_DIR: './data', PSEUDONYM_SCRYPT_N: 32768 });
    expect(cfg.REDIS_URL).toBeUndefined();
    expect(Object.isFrozen(cfg)).toBe(true);
  });

  it('lists every problem at once', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'x', ISSUER: 'http://gateway.example', PSEUDONYM_MASTER_KEY: 'c2hvcnQ=', PSEUDONYM_SCRYPT_N: '1000', REDIS_URL: 'http://x' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of ['PORT', 'ISSUER', 'PSEUDONYM_MASTER_KEY', 'PSEUDONYM_SCRYPT_N', 'REDIS_URL']) expect(problems).toContain(name);
  });

  it('refuses production without a master key, and an ISSUER with a trailing slash', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/PSEUDONYM_MASTER_KEY/);
    expect(() => loadConfig({ ISSUER: 'https://gw.example/' })).toThrow(/ISSUER/);
  });

  it('bounds slow clients by default, and refuses a headers timeout longer than the request timeout', () => {
    expect(loadConfig({})).toMatchObject({ HTTP_HEADERS_TIMEOUT_MS: 10_000, HTTP_REQUEST_TIMEOUT_MS: 30_000, HTTP_IDLE_TIMEOUT_MS: 72_000 });
    expect(() => loadConfig({ HTTP_HEADERS_TIMEOUT_MS: '5000', HTTP_REQUEST_TIMEOUT_MS: '4000' })).toThrow(/HTTP_HEADERS_TIMEOUT_MS: must not exceed HTTP_REQUEST_TIMEOUT_MS/);
  });

  it('lists an ISSUER that is no URL at all with the other problems (it once threw a bare TypeError)', () => {
    expect(() => loadConfig({ ISSUER: 'not a url', PORT: 'x' })).toThrow(ConfigError);
    expect(() => loadConfig({ ISSUER: 'not a url', PORT: 'x' })).toThrow(/ISSUER: Invalid URL[\s\S]*PORT|PORT[\s\S]*ISSUER: Invalid URL/);
  });

  it('masks secrets and URL passwords when described', () => {
    const cfg = loadConfig({ PSEUDONYM_MASTER_KEY: Buffer.alloc(32, 7).toString('base64'), REDIS_URL: 'redis://user:hunter2@127.0.0.1:6379' });
    const text = JSON.stringify(describeConfig(cfg));
    expect(text).not.toContain(Buffer.alloc(32, 7).toString('base64'));
    expect(text).not.toContain('hunter2');
    expect(text).toContain('"PSEUDONYM_MASTER_KEY":"***"');
  });

  it('refuses a signing-key pre-publication interval shorter than the JWKS cache lifetime plus the reload interval', () => {
    expect(loadConfig({ SIGNING_KEY_PREPUBLISH_S: '310', SIGNING_KEYS_RELOAD_S: '10' }).SIGNING_KEY_PREPUBLISH_S).toBe(310);
    expect(() => loadConfig({ SIGNING_KEY_PREPUBLISH_S: '309', SIGNING_KEYS_RELOAD_S: '10' })).toThrow(/SIGNING_KEY_PREPUBLISH_S: must be at least 300/);
  });

  it('takes Redis Sentinel or Cluster nodes as host:port lists, one Redis form at a time, and masks REDIS_PASSWORD', () => {
    const sentinel = loadConfig({ REDIS_SENTINELS: 'sentinel-1:26379, 10.0.0.2:26380,[::1]:26381', REDIS_SENTINEL_NAME: 'pgw', REDIS_PASSWORD: 's3cret-pw' });
    expect(sentinel.REDIS_SENTINELS).toEqual([
      { host: 'sentinel-1', port: 26379 },
      { host: '10.0.0.2', port: 26380 },
      { host: '::1', port: 26381 },
    ]);
    expect(redisTarget(sentinel)).toEqual({ kind: 'sentinel', sentinels: sentinel.REDIS_SENTINELS, name: 'pgw' });
    expect(JSON.stringify(describeConfig(sentinel))).not.toContain('s3cret-pw');
    const cluster = loadConfig({ REDIS_CLUSTER_NODES: 'redis-a:7000,redis-b:7001' });
    expect(redisTarget(cluster)).toEqual({ kind: 'cluster', nodes: [{ host: 'redis-a', port: 7000 }, { host: 'redis-b', port: 7001 }] });
    expect(cluster.REDIS_KEY_PREFIX).toBe('pgw:');
    expect(redisTarget(loadConfig({}))).toBeUndefined();
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig(env);
        return [];
      } catch (err) {
        return (err as ConfigError).problems;
      }
    };
    expect(problems({ REDIS_URL: 'redis://127.0.0.1:6379', REDIS_CLUSTER_NODES: 'a:1' })).toEqual(['REDIS_URL, REDIS_SENTINELS, REDIS_CLUSTER_NODES: set at most one']);
    expect(problems({ REDIS_SENTINELS: 'a:26379' })).toEqual([expect.stringMatching(/^REDIS_SENTINEL_NAME: required/)]);
    expect(problems({ REDIS_CLUSTER_NODES: 'a:1,b', REDIS_SENTINELS: 'c:99999', REDIS_SENTINEL_NAME: 'x' })).toEqual([
      'REDIS_SENTINELS: must be a comma-separated list of host:port',
      'REDIS_CLUSTER_NODES: must be a comma-separated list of host:port',
      'REDIS_URL, REDIS_SENTINELS, REDIS_CLUSTER_NODES: set at most one',
    ]);
  });
});

describe('operations settings (docs/operations.md)', () => {
  it('reads TRUST_PROXY as a list of addresses and CIDR ranges, empty by default', () => {
    expect(loadConfig({}).TRUST_PROXY).toEqual([]);
    expect(loadConfig({ TRUST_PROXY: ' 10.0.0.0/8, 127.0.0.1 ,::1, fd00::/8' }).TRUST_PROXY).toEqual(['10.0.0.0/8', '127.0.0.1', '::1', 'fd00::/8']);
  });

  it('lists every bad operations value together', () => {
    let problems = '';
    try {
      loadConfig({ TRUST_PROXY: '10.0.0.0/33,proxy.example', METRICS_PORT: 'x', METRICS_TOKEN: 'short', SHUTDOWN_TIMEOUT_MS: '10', MAX_EVENT_LOOP_DELAY_MS: '-1' });
    } catch (err) {
      problems = (err as ConfigError).problems.join('\n');
    }
    for (const name of ['TRUST_PROXY', 'METRICS_PORT', 'METRICS_TOKEN', 'SHUTDOWN_TIMEOUT_MS', 'MAX_EVENT_LOOP_DELAY_MS']) expect(problems).toContain(name);
  });

  it('keeps the drain inside the shutdown bound and the metrics port off the main port', () => {
    expect(() => loadConfig({ SHUTDOWN_DRAIN_MS: '10000', SHUTDOWN_TIMEOUT_MS: '10000' })).toThrow(/SHUTDOWN_DRAIN_MS/);
    expect(() => loadConfig({ PORT: '3000', METRICS_PORT: '3000' })).toThrow(/METRICS_PORT/);
    expect(loadConfig({ SHUTDOWN_DRAIN_MS: '5000', SHUTDOWN_TIMEOUT_MS: '20000', METRICS_PORT: '9464' })).toMatchObject({ SHUTDOWN_DRAIN_MS: 5000, METRICS_PORT: 9464 });
  });

  it('masks the metrics token', () => {
    const token = 'metrics-token-0123456789-abcdefghijkl';
    expect(JSON.stringify(describeConfig(loadConfig({ METRICS_TOKEN: token })))).not.toContain(token);
  });
});
