import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import type { Clock } from '../../src/clock.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createKeySchedule } from '../../src/crypto/key-schedule.js';
import { createRootCache, type RootCache } from '../../src/crypto/root-cache.js';
import { generateSigningKey, signingKeysOf, type SigningKeys } from '../../src/crypto/signing-keys.js';
import { createLogger } from '../../src/logger.js';
import type { Lifecycle } from '../../src/ops/lifecycle.js';
import type { Kv } from '../../src/store/kv.js';
import { MemoryKv } from '../../src/store/memory-kv.js';
import { RATE_LIMIT_PREFIX } from '../../src/ops/rate-limit.js';
import { buildRegistry } from '../../src/store/registry.js';
import { parseSeed } from '../../src/store/seed-file.js';
import { remoteKeySourcesFor } from '../../src/outbound/remote-keys.js';
import { freePort } from './net.js';
import type { Db } from '../../src/store/db.js';
import { startRegistrySync } from '../../src/store/registry-sync.js';
import { importSeed } from '../../src/store/seed-import.js';
import { memoryLedger, type MemoryLedger } from './memory-ledger.js';

/** Cheap scrypt for tests; the vectors test covers the production cost separately. */
export const TEST_SCRYPT = { N: 1024, r: 8, p: 1 };

export interface TestGateway {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly kv: Kv;
  readonly config: Config;
  readonly signing: SigningKeys;
  readonly roots: RootCache;
  /** Every log line the gateway wrote, as raw JSON text. */
  readonly logs: string[];
  /** Without a database: the releases the gateway recorded. */
  readonly ledger?: MemoryLedger;
  /** The registry snapshot logins read now. */
  readonly registryOf: () => ReturnType<typeof buildRegistry>;
  close(): Promise<void>;
}

export interface GatewayOptions {
  seed: unknown;
  kv?: Kv;
  clock?: Clock;
  masterKey?: Buffer;
  signing?: SigningKeys;
  env?: Record<string, string>;
  /** A migrated database: the seed is imported into it, the registry snapshot read from it, the admin API on. Closed with the gateway. */
  db?: Db;
  lifecycle?: Lifecycle;
  /** A port chosen beforehand (peers that must know the gateway's URL before it starts); else a free one. */
  port?: number;
}

/** The real app, listening on an ephemeral loopback port. */
export async function startGateway(options: GatewayOptions): Promise<TestGateway> {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const port = options.port ?? (await freePort());
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: String(port),
    ISSUER: `http://127.0.0.1:${port}`,
    LOG_LEVEL: 'info',
    PSEUDONYM_SCRYPT_N: String(TEST_SCRYPT.N),
    // Test gateways share this process's event loop with each other and with the runner: one
    // starting up (an embedded database) would make the others shed load. Shedding has its own
    // test (test/http/operations.test.ts), which sets a bound.
    MAX_EVENT_LOOP_DELAY_MS: '0',
    ...options.env,
  });
  const kv = options.kv ?? new MemoryKv(options.clock);
  const keys = createKeySchedule(options.masterKey ?? randomBytes(32));
  const signing = options.signing ?? signingKeysOf((await generateSigningKey()).key);
  const logger = createLogger('info', sink);
  let registry: () => ReturnType<typeof buildRegistry>;
  let durable: Parameters<typeof buildApp>[0]['durable'];
  if (options.db) {
    await importSeed(options.db, parseSeed(options.seed));
    const sync = await startRegistrySync(options.db, { config, refreshMs: config.REGISTRY_REFRESH_SECONDS * 1000, log: logger });
    registry = sync.snapshot.registry;
    durable = { db: options.db, sync };
  } else {
    const fixed = buildRegistry(parseSeed(options.seed), [], remoteKeySourcesFor(config, logger));
    registry = () => fixed;
  }
  const ledger = options.db ? undefined : memoryLedger();
  const roots = createRootCache(keys, kv, {
    cost: { N: config.PSEUDONYM_SCRYPT_N, r: config.PSEUDONYM_SCRYPT_R, p: config.PSEUDONYM_SCRYPT_P },
    kvTtlMs: config.ROOT_CACHE_TTL_DAYS * 24 * 3600 * 1000,
    scryptConcurrency: config.PSEUDONYM_SCRYPT_CONCURRENCY,
    scryptQueue: config.PSEUDONYM_SCRYPT_QUEUE,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const app = await buildApp({
    config,
    logger,
    kv,
    registry,
    ...(durable ? { durable } : {}),
    ...(ledger ? { ledger } : {}),
    keys,
    signing,
    roots,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.lifecycle ? { lifecycle: options.lifecycle } : {}),
  });
  await app.listen({ host: '127.0.0.1', port });
  return { url: config.ISSUER, app, kv, config, signing, roots, logs, ...(ledger ? { ledger } : {}), registryOf: registry, close: () => app.close() };
}


/** The keys a gateway's in-memory KV holds, sorted, without rate-limit counters (which count requests, refused ones too). */
export const stateKeys = (kv: Kv): string[] =>
  (kv as MemoryKv)
    .keys()
    .filter((k) => !k.startsWith(RATE_LIMIT_PREFIX))
    .sort();
