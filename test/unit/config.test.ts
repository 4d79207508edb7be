import { describe, expect, it } from 'vitest';
import { ConfigError, describeConfig, loadConfig } from '../../src/config.js';

describe('configuration (DESIGN.md section 10)', () => {
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
});
