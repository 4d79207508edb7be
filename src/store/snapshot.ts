import type { Queryable } from './db.js';
import { allLicences } from './licences.js';
import { allRegistrations } from './registrations.js';
import { buildRegistry, withObjections, type Registry } from './registry.js';
import type { RemoteKeysAt } from './jwks-source.js';
import type { StoredClient, StoredSeed } from './seed-file.js';
import { allObjectionTargets } from '../privacy/objections.js';
import type { SchoolReg, SupplierReg } from './seed-schema.js';
import { stableJson } from './stable-json.js';

// The login path's registry, built from the database (docs/architecture.md).
// Replaced as a whole when the stored registrations change; when the database
// cannot be read, the last good snapshot stays in place and logins go on.

export async function loadStoredSeed(q: Queryable): Promise<StoredSeed> {
  return {
    schools: await allRegistrations<SchoolReg>(q, 'school'),
    suppliers: await allRegistrations<SupplierReg>(q, 'supplier'),
    clients: await allRegistrations<StoredClient>(q, 'client'),
    licences: await allLicences(q),
  };
}

export class RegistrySnapshot {
  private fingerprint = '';
  private objectionsFingerprint = '[]';
  private running: Promise<boolean> | undefined;
  private queued: Promise<boolean> | undefined;

  private constructor(
    private readonly db: Queryable,
    private current: Registry,
    private readonly remoteKeysAt?: RemoteKeysAt,
  ) {}

  /** The first load must succeed: there is no older snapshot to fall back on. */
  static async load(db: Queryable, remoteKeysAt?: RemoteKeysAt): Promise<RegistrySnapshot> {
    const snapshot = new RegistrySnapshot(db, buildRegistry({ schools: [], suppliers: [], clients: [], licences: [] }), remoteKeysAt);
    await snapshot.refresh();
    return snapshot;
  }

  /** The registry logins read now: never waits on the database. */
  readonly registry = (): Registry => this.current;

  /**
   * Reload from the database; true when the registry changed. A call made
   * while a load runs waits for one more load that starts after it, so a
   * change committed before the call is always seen; calls made meanwhile
   * share that one load.
   */
  refresh(): Promise<boolean> {
    if (!this.running) {
      this.running = this.reload().finally(() => {
        this.running = undefined;
      });
      return this.running;
    }
    this.queued ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.refresh();
      });
    return this.queued;
  }

  private async reload(): Promise<boolean> {
    const seed = await loadStoredSeed(this.db);
    const objections = await allObjectionTargets(this.db);
    const fingerprint = stableJson(seed);
    const objectionsFingerprint = JSON.stringify(objections);
    // Unchanged registrations keep the same registry, and with it the remote JWKS caches.
    if (fingerprint !== this.fingerprint) this.current = buildRegistry(seed, objections, this.remoteKeysAt);
    else if (objectionsFingerprint !== this.objectionsFingerprint) this.current = withObjections(this.current, objections);
    else return false;
    this.fingerprint = fingerprint;
    this.objectionsFingerprint = objectionsFingerprint;
    return true;
  }
}
