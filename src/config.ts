import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { DEFAULT_ROOT_TTL_DAYS } from './crypto/root-cache.js';
import { z } from 'zod';
import { JWKS_MAX_AGE_S } from './crypto/signing-key-file.js';
import { ProblemsError } from './errors.js';
import { B64TOKEN } from './http/bearer.js';

// One schema over the environment (README, Configuration), parsed once and frozen.
// Every problem is reported together so an operator fixes them in one go.

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

const base64Key = z.string().refine((s) => Buffer.from(s, 'base64').length >= 32, {
  message: 'must be base64 of at least 32 bytes',
});

/** A token a caller presents as `Authorization: Bearer`: so it must be a b64token (RFC 6750 section 2.1). */
const bearerToken = z.string().min(32).max(512).regex(B64TOKEN, { message: 'must be 32 to 512 characters of A-Z a-z 0-9 - . _ ~ + / (then = padding), to be sent as a bearer token' });

const intFromEnv = (def: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(def);

const powerOfTwo = (def: number) =>
  intFromEnv(def, 2, 2 ** 22).refine((n) => (n & (n - 1)) === 0, { message: 'must be a power of two' });

/** `host:port,host:port` (IPv6 hosts in brackets): Redis Sentinel or Cluster nodes. */
const redisNodes = z.string().transform((raw, ctx) => {
  const nodes = raw.split(',').map((part) => /^\s*(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})\s*$/.exec(part));
  if (nodes.some((m) => !m || Number(m[2]) < 1 || Number(m[2]) > 65535)) {
    ctx.addIssue({ code: 'custom', message: 'must be a comma-separated list of host:port' });
    return z.NEVER;
  }
  return nodes.map((m) => ({ host: m![1]!.replace(/^\[|\]$/g, ''), port: Number(m![2]) }));
});

// Addresses (IPv4/IPv6, optionally /prefix) of the reverse proxies whose
// X-Forwarded-* headers are believed; empty: none are (fastify's trustProxy list).
const proxyList = z
  .string()
  .transform((raw) => raw.split(',').map((s) => s.trim()).filter(Boolean))
  .refine((list) => list.every(isAddressOrCidr), { message: 'must be a comma-separated list of IP addresses or CIDR ranges' })
  .default([]);

// Destinations a school's or client's jwksUri may reach although production rules refuse them
// (docs/remote-jwks.md): host names, IP addresses, CIDR ranges.
const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const allowList = z
  .string()
  .transform((raw) => raw.split(',').map((s) => s.trim()).filter(Boolean))
  .refine((list) => list.every((entry) => HOST_NAME.test(entry) || isAddressOrCidr(entry)), {
    message: 'must be a comma-separated list of host names, IP addresses or CIDR ranges',
  })
  .default([]);

function isAddressOrCidr(entry: string): boolean {
  const [address = '', prefix, extra] = entry.split('/');
  const family = isIP(address);
  if (!family || extra !== undefined) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

export const envSchema = z.object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    HOST: z.string().min(1).default('127.0.0.1'),
    PORT: intFromEnv(3000, 0, 65535),
    ISSUER: z
      .url({ protocol: /^https?$/ })
      // A value that is no URL at all is reported by z.url() above; zod runs this refinement anyway.
      .refine((raw) => { const url = URL.parse(raw); return !url || url.protocol === 'https:' || LOOPBACK.has(url.hostname); }, {
        message: 'must be https (http only on loopback hosts)',
      })
      .refine((raw) => !raw.includes('?') && !raw.includes('#') && !raw.endsWith('/'), {
        message: 'must have no query, fragment or trailing slash',
      })
      .optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
    // Redis behind Sentinel or as a Cluster instead of REDIS_URL (docs/scale-out.md).
    REDIS_SENTINELS: redisNodes.optional(),
    REDIS_SENTINEL_NAME: z.string().min(1).optional(),
    REDIS_CLUSTER_NODES: redisNodes.optional(),
    REDIS_USERNAME: z.string().min(1).optional(),
    REDIS_PASSWORD: z.string().min(1).optional(),
    // How long one Redis command may wait for its answer. The first command past it drops the
    // stalled connection, so every request waiting on Redis answers 503 at once (docs/operations.md).
    REDIS_COMMAND_TIMEOUT_MS: intFromEnv(1_000, 50, 60_000),
    REDIS_KEY_PREFIX: z.string().regex(/^[A-Za-z0-9:_.-]{1,64}$/, { message: 'must be 1-64 characters of A-Z a-z 0-9 : _ . - (no hash tag: keys must spread over a Cluster)' }).default('pgw:'),
    DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
    DATA_DIR: z.string().min(1).default('./data'),
    SEED_FILE: z.string().min(1).optional(),
    PSEUDONYM_MASTER_KEY: base64Key.optional(),
    // Defaults measured on the project's 2-core machine; docs/pseudonyms.md gives the
    // measurements and the reversal cost they buy.
    PSEUDONYM_SCRYPT_N: powerOfTwo(2 ** 15),
    PSEUDONYM_SCRYPT_R: intFromEnv(8, 1, 64),
    PSEUDONYM_SCRYPT_P: intFromEnv(1, 1, 16),
    // The root cache (docs/pseudonyms.md): a root stays in the shared cache this many days after the
    // pupil's last login (a sliding lifetime that outlasts the summer holidays); scrypt runs at most
    // this many at a time per process (default: every core but one, so warm logins keep a core),
    // with at most this many more waiting before a cold login is refused with 503.
    ROOT_CACHE_TTL_DAYS: intFromEnv(DEFAULT_ROOT_TTL_DAYS, 1, 3650),
    PSEUDONYM_SCRYPT_CONCURRENCY: intFromEnv(Math.max(1, availableParallelism() - 1), 1, 256),
    PSEUDONYM_SCRYPT_QUEUE: intFromEnv(64, 0, 100_000),
    OPERATOR_BOOTSTRAP_TOKEN: bearerToken.optional(),
    // Rate limits per minute (fixed windows, shared through the KV); see the README.
    RATE_LIMIT_TOKEN_PER_MIN: intFromEnv(3_000, 1, 10_000_000),
    RATE_LIMIT_TOKEN_IP_PER_MIN: intFromEnv(3_000, 1, 10_000_000),
    RATE_LIMIT_ASSERTION_PER_MIN: intFromEnv(1_200, 1, 10_000_000),
    RATE_LIMIT_ASSERTION_ISSUER_PER_MIN: intFromEnv(30_000, 1, 10_000_000),
    // Signing-key rotation (docs/key-rotation.md): a new key is published this long before it
    // signs, and a key that stopped signing stays published this long; processes re-check the
    // key file every SIGNING_KEYS_RELOAD_S.
    SIGNING_KEY_PREPUBLISH_S: intFromEnv(3_600, 1, 90 * 86_400),
    SIGNING_KEYS_RELOAD_S: intFromEnv(10, 1, 300),
    // The SSO session (one school login a day): ends after this much inactivity, and at the latest after the maximum.
    SESSION_IDLE_SECONDS: intFromEnv(3600, 60, 24 * 3600),
    SESSION_MAX_SECONDS: intFromEnv(8 * 3600, 300, 7 * 24 * 3600),
    // Safety net behind the change notices: every process reloads its registry snapshot this often.
    REGISTRY_REFRESH_SECONDS: intFromEnv(30, 1, 3600),
    // Admin API requests per client address per minute.
    RATE_LIMIT_ADMIN_PER_MIN: intFromEnv(300, 1, 10_000_000),
    // Operations (docs/operations.md).
    TRUST_PROXY: proxyList,
    JWKS_URI_ALLOW: allowList,
    // A school's upstream OpenID provider (docs/upstream-oidc.md): each exchange with it (discovery,
    // code, keys) ends within this long, so a provider that is down or slow answers 503 within 10 s.
    UPSTREAM_OIDC_TIMEOUT_MS: intFromEnv(8_000, 50, 9_500),
    MAX_EVENT_LOOP_DELAY_MS: intFromEnv(1000, 0, 60_000),
    METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
    METRICS_HOST: z.string().min(1).optional(),
    /** The service's own name on its pages (docs/login-journey.md); unset: "Inlogdienst" / "Login service". */
    SERVICE_NAME: z.string().trim().min(1).max(60).optional(),
    METRICS_TOKEN: bearerToken.optional(),
    // Slow and idle clients (docs/operations.md): the request head must arrive within the
    // headers timeout and the whole request within the request timeout (else 408 and close); a
    // connection on which nothing moves for the idle timeout is closed.
    HTTP_HEADERS_TIMEOUT_MS: intFromEnv(10_000, 100, 120_000),
    HTTP_REQUEST_TIMEOUT_MS: intFromEnv(30_000, 100, 600_000),
    HTTP_IDLE_TIMEOUT_MS: intFromEnv(72_000, 100, 600_000),
    SHUTDOWN_DRAIN_MS: intFromEnv(0, 0, 300_000),
    SHUTDOWN_TIMEOUT_MS: intFromEnv(10_000, 1_000, 600_000),
    // Privacy rights (docs/privacy.md): repeated releases are counted into the ledger this
    // often; ledger rows older than the retention period are purged on the purge interval.
    LEDGER_COUNT_FLUSH_SECONDS: intFromEnv(10, 1, 3600),
    LEDGER_RETENTION_DAYS: intFromEnv(730, 1, 36_500),
    LEDGER_PURGE_INTERVAL_SECONDS: intFromEnv(3600, 10, 7 * 86_400),
    // The roster (docs/roster.md): a person removed from it is deleted this many days later.
    ROSTER_REMOVAL_GRACE_DAYS: intFromEnv(30, 0, 365),
    // Pseudonym resolution jobs: scrypt runs at most this many at a time per process, leaving
    // the thread pool to logins; finished results are kept this long.
    RESOLUTION_JOB_CONCURRENCY: intFromEnv(2, 1, 64),
    RESOLUTION_JOB_TTL_SECONDS: intFromEnv(86_400, 60, 30 * 86_400),
  });

export type Env = z.infer<typeof envSchema>;

export interface Config extends Readonly<Omit<Env, 'ISSUER'>> {
  readonly ISSUER: string;
}

export class ConfigError extends ProblemsError {
  constructor(problems: string[]) {
    super('configuration', problems);
    this.name = 'ConfigError';
  }
}

/** Parse the environment; throws ConfigError listing every problem at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings in a .env file mean "unset", not "invalid".
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`);
  // Cross-field rules run on the raw values, so they are listed with the rest.
  if (present.NODE_ENV === 'production' && !present.PSEUDONYM_MASTER_KEY) {
    problems.push('PSEUDONYM_MASTER_KEY: required when NODE_ENV=production (a generated key would not be shared between instances)');
  }
  if ([present.REDIS_URL, present.REDIS_SENTINELS, present.REDIS_CLUSTER_NODES].filter(Boolean).length > 1) {
    problems.push('REDIS_URL, REDIS_SENTINELS, REDIS_CLUSTER_NODES: set at most one');
  }
  if (Boolean(present.REDIS_SENTINELS) !== Boolean(present.REDIS_SENTINEL_NAME)) {
    problems.push('REDIS_SENTINEL_NAME: required with REDIS_SENTINELS (the name of the monitored primary), and only with it');
  }
  if (parsed.success && parsed.data.SIGNING_KEY_PREPUBLISH_S < JWKS_MAX_AGE_S + parsed.data.SIGNING_KEYS_RELOAD_S) {
    problems.push(`SIGNING_KEY_PREPUBLISH_S: must be at least ${JWKS_MAX_AGE_S} (the JWKS cache lifetime) + SIGNING_KEYS_RELOAD_S, so every relying party and process sees a key before it signs`);
  }
  if (parsed.success && parsed.data.SESSION_IDLE_SECONDS > parsed.data.SESSION_MAX_SECONDS) {
    problems.push('SESSION_IDLE_SECONDS: must not exceed SESSION_MAX_SECONDS');
  }
  if (parsed.success && parsed.data.SHUTDOWN_DRAIN_MS >= parsed.data.SHUTDOWN_TIMEOUT_MS) {
    problems.push('SHUTDOWN_DRAIN_MS: must be shorter than SHUTDOWN_TIMEOUT_MS (the drain is part of the bounded shutdown)');
  }
  if (parsed.success && parsed.data.HTTP_HEADERS_TIMEOUT_MS > parsed.data.HTTP_REQUEST_TIMEOUT_MS) {
    problems.push('HTTP_HEADERS_TIMEOUT_MS: must not exceed HTTP_REQUEST_TIMEOUT_MS (the head is part of the request)');
  }
  if (parsed.success && parsed.data.METRICS_PORT && parsed.data.METRICS_PORT === parsed.data.PORT) {
    problems.push('METRICS_PORT: must differ from PORT');
  }
  if (!parsed.success || problems.length) throw new ConfigError(problems);
  const cfg = parsed.data;
  return Object.freeze({ ...cfg, ISSUER: cfg.ISSUER ?? `http://localhost:${cfg.PORT}` });
}

const SECRET_KEYS = new Set(['PSEUDONYM_MASTER_KEY', 'OPERATOR_BOOTSTRAP_TOKEN', 'REDIS_PASSWORD', 'METRICS_TOKEN']);

/** The configuration as it may be printed: secrets masked, credentials stripped from URLs. */
export function describeConfig(cfg: Config): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(cfg)) {
    if (value === undefined) continue;
    if (SECRET_KEYS.has(key)) out[key] = '***';
    else if (key.endsWith('_URL') && typeof value === 'string') out[key] = maskUrlCredentials(value);
    else out[key] = value;
  }
  return out;
}

function maskUrlCredentials(raw: string): string {
  const url = new URL(raw);
  if (url.password) url.password = '***';
  return url.toString();
}
