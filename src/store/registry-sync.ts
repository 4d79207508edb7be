import type { FastifyBaseLogger } from 'fastify';
import type { Db } from './db.js';
import type { Config } from '../config.js';
import { openRegistryNotices, type RegistryNotices } from './registry-notices.js';
import { RegistrySnapshot } from './snapshot.js';
import { remoteKeySourcesFor } from '../outbound/remote-keys.js';

// Keeps this process's snapshot current: on every change notice, and on a
// timer as a safety net for a lost notice. A failed refresh keeps the last
// snapshot: logins never wait for, nor fail with, the database.

export interface RegistrySync {
  snapshot: RegistrySnapshot;
  notices: RegistryNotices;
  close(): Promise<void>;
}

export async function startRegistrySync(db: Db, options: { config: Config; refreshMs: number; log: FastifyBaseLogger }): Promise<RegistrySync> {
  const { log } = options;
  const snapshot = await RegistrySnapshot.load(db, remoteKeySourcesFor(options.config, log));
  const refresh = () => {
    snapshot.refresh().then(
      (changed) => changed && log.info('registry snapshot reloaded'),
      (err: unknown) => log.warn({ err: err instanceof Error ? err.message : String(err) }, 'registry refresh failed; logins continue on the last snapshot'),
    );
  };
  const notices = openRegistryNotices(options.config, refresh, (err) => log.warn({ err: err instanceof Error ? err.message : String(err) }, 'registry change notices unavailable'));
  const timer = setInterval(refresh, options.refreshMs);
  timer.unref();
  return {
    snapshot,
    notices,
    close: async () => {
      clearInterval(timer);
      await notices.close();
    },
  };
}
