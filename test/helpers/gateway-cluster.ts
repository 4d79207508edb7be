import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GatewayView } from './browser.js';
import { freshPgDatabase } from './db.js';
import { GatewayProcess } from './gateway-process.js';
import { freePort } from './net.js';

// Several gateway processes (src/main.ts, as operators start them) behind one
// notional load balancer at ISSUER: the first instance's address. They share
// Redis (under a key prefix of their own), one fresh PostgreSQL database, the
// master key and the signing keys (one DATA_DIR), as docs/scale-out.md says.

export interface GatewayCluster {
  readonly issuer: string;
  readonly instances: GatewayProcess[];
  /** What the login helpers need: the issuer and the published keys. */
  readonly view: GatewayView;
  readonly master: Buffer;
  stop(): Promise<void>;
}

/** `count` instances; `env` is added to each one's environment (a Redis URL, rate limits, a bootstrap token). */
export async function startCluster(seed: unknown, count: number, env: Record<string, string>): Promise<GatewayCluster> {
  const database = await freshPgDatabase();
  const dir = await mkdtemp(join(tmpdir(), 'pgw-cluster-'));
  await writeFile(join(dir, 'seed.json'), JSON.stringify(seed));
  const master = randomBytes(32);
  const ports = await Promise.all(Array.from({ length: count }, () => freePort()));
  const issuer = `http://127.0.0.1:${ports[0]}`;
  const shared = {
    ISSUER: issuer, DATABASE_URL: database.url, DATA_DIR: join(dir, 'data'), SEED_FILE: join(dir, 'seed.json'),
    REDIS_KEY_PREFIX: `pgwtest:${randomBytes(6).toString('hex')}:`, PSEUDONYM_MASTER_KEY: master.toString('base64'), PSEUDONYM_SCRYPT_N: '1024',
    ...env,
  };
  // The first one alone: it creates the signing keys the others then read.
  const first = await GatewayProcess.start({ ...shared, PORT: String(ports[0]) });
  const rest = await Promise.all(ports.slice(1).map((port) => GatewayProcess.start({ ...shared, PORT: String(port) })));
  const instances = [first, ...rest];
  const jwks = (await (await fetch(`${issuer}/jwks.json`)).json()) as { keys: object[] };
  return {
    issuer, instances, master,
    view: { url: issuer, signing: { jwks } } as unknown as GatewayView,
    stop: async () => {
      await Promise.all(instances.map((i) => i.stop()));
      await database.drop();
    },
  };
}

/** The same path and query on another instance: what a load balancer does between two requests. */
export const on = (instance: { url: string }, url: string | URL): string => {
  const moved = new URL(url);
  moved.host = new URL(instance.url).host;
  return moved.toString();
};
