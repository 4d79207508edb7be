import { hkdfSync } from 'node:crypto';

// docs/pseudonyms.md: every key is HKDF-SHA256(ikm = master, salt = empty,
// info = UTF-8 label, length = 32). The roster's per-school keys: docs/roster.md.

export interface KeySchedule {
  readonly root: Buffer;
  readonly cache: Buffer;
  readonly ref: Buffer;
  /** Seals the client a pending login is for into its login id (src/login/login-id.ts). */
  readonly login: Buffer;
  supplier(supplierId: string, version: number): Buffer;
  /** The school's roster keys: info `pgw/roster/seal/{schoolId}` (AES-256-GCM) and `pgw/roster/lookup/{schoolId}` (HMAC). */
  roster(schoolId: string): RosterKeys;
}

export interface RosterKeys {
  readonly seal: Buffer;
  readonly lookup: Buffer;
}

export const MIN_MASTER_KEY_BYTES = 32;

export function deriveKey(master: Uint8Array, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', master, new Uint8Array(0), Buffer.from(info, 'utf8'), 32));
}

export function createKeySchedule(master: Uint8Array): KeySchedule {
  if (master.length < MIN_MASTER_KEY_BYTES) throw new RangeError('the pseudonym master key must be at least 32 bytes');
  const supplierKeys = new Map<string, Buffer>();
  const rosterKeys = new Map<string, RosterKeys>();
  return Object.freeze({
    root: deriveKey(master, 'pgw/root'),
    cache: deriveKey(master, 'pgw/cache'),
    ref: deriveKey(master, 'pgw/ref'),
    login: deriveKey(master, 'pgw/login'),
    supplier(supplierId: string, version: number): Buffer {
      const info = `pgw/supplier/v${version}/${supplierId}`;
      let key = supplierKeys.get(info);
      if (!key) {
        key = deriveKey(master, info);
        supplierKeys.set(info, key);
      }
      return key;
    },
    roster(schoolId: string): RosterKeys {
      let keys = rosterKeys.get(schoolId);
      if (!keys) {
        keys = Object.freeze({ seal: deriveKey(master, `pgw/roster/seal/${schoolId}`), lookup: deriveKey(master, `pgw/roster/lookup/${schoolId}`) });
        rosterKeys.set(schoolId, keys);
      }
      return keys;
    },
  });
}
