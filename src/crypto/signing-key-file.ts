import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JWK } from 'jose';

// DATA_DIR/signing-keys.json: the gateway's private signing keys, each with the
// moment it starts signing. A key's state follows from that moment and the
// clock alone, so every process reading the same file agrees on it:
//
//   next      published in the JWKS, not signing yet (activatesAt in the future)
//   current   the latest key whose activatesAt has passed: signs
//   previous  an older activated key: still published, no longer signing
//   retired   removed from the file (`keys retire`): gone from the JWKS
//
// A file from before rotation existed holds one key without activatesAt: it is current.

export const SIGNING_KEYS_FILE = 'signing-keys.json';

/** Cache-Control max-age of /jwks.json: how long a relying party may keep a JWKS it fetched. */
export const JWKS_MAX_AGE_S = 300;

export type StoredKey = JWK & { kid: string; activatesAt?: string };
export type KeyState = 'next' | 'current' | 'previous';

export const keyFilePath = (dataDir: string): string => join(dataDir, SIGNING_KEYS_FILE);

const activation = (key: StoredKey): number => (key.activatesAt === undefined ? 0 : Date.parse(key.activatesAt));

/** Keys ordered by activation (file order breaks ties), each with its state at `now`. */
export function keyStates<K extends StoredKey>(keys: readonly K[], now: number): { key: K; state: KeyState; activatesAt: number }[] {
  const ordered = keys.map((key, i) => ({ key, i, at: activation(key) })).sort((a, b) => a.at - b.at || a.i - b.i);
  const activated = ordered.filter((k) => k.at <= now);
  // A file whose keys all lie in the future (clocks apart): the earliest signs rather than none.
  const current = activated.at(-1) ?? ordered[0];
  return ordered.map(({ key, at }) => ({
    key,
    activatesAt: at,
    state: key === current?.key ? 'current' : at > now ? 'next' : 'previous',
  }));
}

/** The moment after `now` at which some key's state changes (Infinity when none will). */
export const nextChange = (keys: readonly StoredKey[], now: number): number =>
  Math.min(Infinity, ...keys.map(activation).filter((at) => at > now));

export async function readKeyFile(dataDir: string): Promise<StoredKey[] | undefined> {
  const text = await readFile(keyFilePath(dataDir), 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (text === undefined) return undefined;
  const parsed = JSON.parse(text) as { keys?: unknown };
  if (!Array.isArray(parsed.keys) || parsed.keys.length === 0) throw new Error(`${SIGNING_KEYS_FILE} holds no keys`);
  return parsed.keys as StoredKey[];
}

/**
 * Replace the file in one step (write a sibling, then rename): a process
 * reloading it reads the old keys or the new ones, never half a file.
 */
export async function writeKeyFile(dataDir: string, keys: readonly StoredKey[], options: { create?: boolean } = {}): Promise<void> {
  await writeFileAtomically(dataDir, SIGNING_KEYS_FILE, { keys }, options);
}

/** Write `value` as JSON to DATA_DIR/`file` (mode 0600) in one step; `create`: only if absent (EEXIST otherwise). */
export async function writeFileAtomically(dataDir: string, file: string, value: unknown, options: { create?: boolean } = {}): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, file);
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temp, JSON.stringify(value), { mode: 0o600, flag: 'wx' });
  try {
    // First start: processes may race to create the file. link() fails with EEXIST when it exists,
    // so exactly one wins, and nobody ever reads a half-written file.
    if (options.create) await link(temp, path);
    else await rename(temp, path);
  } finally {
    if (options.create) await unlink(temp);
  }
}
