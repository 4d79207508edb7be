import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.js';
import { describeConfig, loadConfig } from './config.js';
import { loadOrCreateUpstreamClientKey } from './upstream-oidc/client-key.js';
import { createKeySchedule } from './crypto/key-schedule.js';
import { loadMasterKey } from './crypto/master-key.js';
import { loadOrCreateSigningKeys } from './crypto/signing-keys.js';
import { ProblemsError } from './errors.js';
import { createLogger } from './logger.js';
import { Lifecycle } from './ops/lifecycle.js';
import { shutDown } from './ops/shutdown.js';
import type { Kv } from './store/kv.js';
import { openKv, redisTarget } from './store/open-kv.js';
import { loadSeedFile } from './store/seed-file.js';
import { listenProblem } from './ops/listen-error.js';
import { openDb } from './store/open-db.js';
import { startRegistrySync } from './store/registry-sync.js';
import { importSeed } from './store/seed-import.js';

// Start-up only: read the config, open the ports, listen, shut down gracefully.

/** Input the start cannot use (configuration, seed file): every problem, as plain lines on stderr, then exit 1. */
async function orStop<T>(read: () => T | Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof ProblemsError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}

async function main(): Promise<void> {
  const config = await orStop(() => loadConfig());
  const logger = createLogger(config.LOG_LEVEL);
  logger.info({ config: describeConfig(config) }, 'configuration');
  const seed = await orStop(() => (config.SEED_FILE ? loadSeedFile(config.SEED_FILE) : undefined));
  // Registrations live in the database; the seed file is an idempotent import into it.
  let db, sync;
  try {
    db = await openDb(config);
    if (seed) {
      const { changes, generated } = await importSeed(db, seed);
      logger.info({ changes }, 'seed file imported');
      // A secret is shown only to whoever asked for it; a log is no place for it.
      if (generated.length) logger.warn({ clients: generated.map((g) => g.clientId) }, 'client secrets generated at start are shown nowhere: run `cli client-secret generate CLIENT_ID` to get one');
    }
    sync = await startRegistrySync(db, { config, refreshMs: config.REGISTRY_REFRESH_SECONDS * 1000, log: logger });
  } catch (err) {
    // Migrations and the first snapshot need the database: without them there is nothing to serve.
    logger.fatal({ err }, 'database unavailable at start');
    process.exit(1);
  }
  const registry = sync.snapshot.registry;
  const keys = createKeySchedule(await loadMasterKey(config.PSEUDONYM_MASTER_KEY, config.DATA_DIR));
  const signing = await loadOrCreateSigningKeys(config.DATA_DIR, {
    reloadIntervalMs: config.SIGNING_KEYS_RELOAD_S * 1000,
    onReloadError: (err) => logger.warn({ err }, 'signing key file unreadable; keeping the keys loaded before'),
  });
  const kv: Kv = await openKv(config);
  if (!redisTarget(config)) logger.warn('REDIS_URL is unset: hot state is in memory, run a single instance only');

  const lifecycle = new Lifecycle();
  const upstreamClientKey = await loadOrCreateUpstreamClientKey(config.DATA_DIR);
  const app = await buildApp({ config, logger, kv, registry, keys, signing, lifecycle, durable: { db, sync }, upstreamClientKey });
  // The whole shutdown, drain included, is bounded: past SHUTDOWN_TIMEOUT_MS the process exits with 1.
  closeWithGrace({ delay: config.SHUTDOWN_TIMEOUT_MS, logger }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'shutting down after an error');
    else logger.info({ signal }, 'shutting down');
    await shutDown(app, lifecycle, logger, { drainMs: err ? 0 : config.SHUTDOWN_DRAIN_MS });
  });
  try {
    await app.listen({ host: config.HOST, port: config.PORT });
  } catch (err) {
    const ports = new Map([[config.PORT, 'PORT'], ...(config.METRICS_PORT ? [[config.METRICS_PORT, 'METRICS_PORT'] as const] : [])]);
    const problem = listenProblem(err, ports);
    if (problem === undefined) throw err;
    logger.flush();
    process.stderr.write(`${problem}\n`);
    process.exit(1);
  }
  logger.info(
    { issuer: config.ISSUER, database: config.DATABASE_URL ? 'postgresql' : 'pglite', schools: registry().schools.size, clients: registry().clients.size },
    'gateway ready',
  );
  if (registry().schools.size === 0 || registry().clients.size === 0) {
    logger.warn(
      { schools: registry().schools.size, clients: registry().clients.size },
      'no school or no client is registered, so nobody can log in yet: add registrations with SEED_FILE=path/to/seed.json (docs/registrations.md), `npm run admin -- seed import FILE`, or the admin API (/admin/v1, with OPERATOR_BOOTSTRAP_TOKEN or `npm run admin -- operator-token create`)',
    );
  }
  // Whoever waits for this line (an orchestrator, a test) need not wait for the next periodic flush.
  logger.flush();
}

await main();
