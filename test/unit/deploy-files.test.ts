import { describe, expect, it } from 'vitest';
import { envSchema, loadConfig } from '../../src/config.js';
import { composeEnvironment, dockerfile, envFileNames, interpolate, readRepoFile } from '../helpers/deploy-files.js';

// The container files cannot be built here (no Docker engine): these checks
// hold them to the code. Every variable they set is one the config reads, the
// image runs node directly as a non-root user, and the compose environment is
// a valid production configuration. test/ops/production.redis.test.ts then
// starts the built gateway with this very environment.

const SCHEMA_NAMES = new Set(Object.keys(envSchema.shape));
const SECRETS = { ISSUER: 'https://login.example.nl', POSTGRES_PASSWORD: 'pw', REDIS_PASSWORD: '0123abcd', PSEUDONYM_MASTER_KEY: Buffer.alloc(32, 1).toString('base64') };

describe('Dockerfile', () => {
  const facts = dockerfile();

  it('builds on node:20-bookworm-slim in stages and runs node dist/main.js as a non-root user', () => {
    expect(facts.bases.length).toBeGreaterThanOrEqual(2);
    for (const base of facts.bases) expect(base).toBe('node:20-bookworm-slim');
    // node itself, not npm: SIGTERM must reach the gateway.
    expect(facts.cmd).toEqual(['node', 'dist/main.js']);
    expect(facts.user).toBe('node');
    expect(facts.env.NODE_ENV).toBe('production');
  });

  it('sets only configuration the gateway reads, exposes its port, and checks /healthz with node', () => {
    for (const name of Object.keys(facts.env)) expect(SCHEMA_NAMES, name).toContain(name);
    expect(facts.exposed).toContain(facts.env.PORT);
    expect(facts.healthcheck).toMatch(/CMD \["node", "-e", ".*\/healthz/);
  });

  it('installs production dependencies only in the runtime image', () => {
    const text = readRepoFile('Dockerfile');
    expect(text).toMatch(/npm ci --omit=dev/);
    expect(text).toMatch(/COPY --from=deps \/app\/node_modules/);
    expect(text).toMatch(/COPY --from=build \/app\/dist/);
  });
});

describe('docker-compose.yml', () => {
  const gateway = composeEnvironment('gateway');

  it('gives the gateway only variables the config schema knows', () => {
    for (const name of Object.keys(gateway)) expect(SCHEMA_NAMES, name).toContain(name);
    for (const name of ['NODE_ENV', 'ISSUER', 'REDIS_URL', 'DATABASE_URL', 'DATA_DIR', 'PSEUDONYM_MASTER_KEY', 'METRICS_PORT', 'TRUST_PROXY', 'SHUTDOWN_TIMEOUT_MS']) {
      expect(gateway, name).toHaveProperty(name);
    }
  });

  it('is a valid production configuration once .env supplies the secrets, and refuses to start without them', () => {
    const env = Object.fromEntries(Object.entries(gateway).map(([k, v]) => [k, interpolate(v, SECRETS)]));
    const config = loadConfig(env);
    expect(config).toMatchObject({ NODE_ENV: 'production', HOST: '0.0.0.0', REDIS_URL: 'redis://:0123abcd@redis:6379', DATA_DIR: '/data' });
    expect(() => interpolate(gateway.PSEUDONYM_MASTER_KEY!, {})).toThrow(/PSEUDONYM_MASTER_KEY is required/);
    expect(() => interpolate(gateway.REDIS_URL!, {})).toThrow(/REDIS_PASSWORD is required/);
    // Docker's stop grace must outlast the gateway's own shutdown bound.
    const grace = /stop_grace_period: (\d+)s/.exec(readRepoFile('docker-compose.yml'))?.[1];
    expect(Number(grace) * 1000).toBeGreaterThan(config.SHUTDOWN_TIMEOUT_MS);
  });

  it('runs Redis with noeviction: codes and replay markers must never be evicted', () => {
    expect(redisCommand()).toMatch(/ --maxmemory-policy noeviction /);
  });

  it('treats Redis as secret material: a password, and nothing on disk unless the operator chooses it', () => {
    const command = redisCommand();
    expect(command).toMatch(/ --requirepass "\$\$REDIS_PASSWORD" /);
    expect(command).toMatch(/ --save '' /);
    expect(command).toMatch(/ --appendonly \$\{REDIS_APPENDONLY:-no\}$/);
    expect(composeEnvironment('redis').REDIS_PASSWORD).toBe(gateway.REDIS_URL!.match(/^redis:\/\/:(\$\{REDIS_PASSWORD:\?[^}]*\})@redis:6379$/)?.[1]);
  });
});

/** The shell command compose starts Redis with. */
function redisCommand(): string {
  const match = /^ {4}command: \["sh", "-c", "(.*)"\]$/m.exec(readRepoFile('docker-compose.yml').split('\n  postgres:')[0]!.split('\n  redis:')[1]!);
  if (!match) throw new Error('no sh -c command for redis in docker-compose.yml');
  return match[1]!.replace(/\\"/g, '"');
}

/** The names in the first cell of the README's configuration table; `_R` after `PSEUDONYM_SCRYPT_N` means PSEUDONYM_SCRYPT_R. */
function readmeConfigNames(): string[] {
  const names: string[] = [];
  for (const [, cell] of readRepoFile('README.md').matchAll(/^\| (`[A-Z_][A-Z0-9_]*`(?:, `[A-Z0-9_]+`)*) \|/gm)) {
    let previous = '';
    for (const [, token] of cell!.matchAll(/`([A-Z0-9_]+)`/g)) {
      const name = token!.startsWith('_') ? previous.replace(/_[A-Z0-9]+$/, token!) : token!;
      names.push(name);
      previous = name;
    }
  }
  return names;
}

describe('configuration documentation', () => {
  it('names every configuration variable in config/example.env and the README table, and nothing else', () => {
    const example = envFileNames('config/example.env');
    const readme = readmeConfigNames();
    for (const name of SCHEMA_NAMES) {
      expect(example, `config/example.env lacks ${name}`).toContain(name);
      expect(readme, `README lacks ${name}`).toContain(name);
    }
    for (const name of [...example, ...readme]) expect(SCHEMA_NAMES, name).toContain(name);
  });
});
