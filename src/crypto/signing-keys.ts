import { createPrivateKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { systemClock, type Clock } from '../clock.js';
import { keyFilePath, keyStates, nextChange, readKeyFile, writeKeyFile, type StoredKey } from './signing-key-file.js';

// The gateway's own ES256 signing keys (id_tokens, login requests to schools),
// kept in DATA_DIR/signing-keys.json (src/crypto/signing-key-file.ts) and
// rotated with `keys rotate|retire` (src/cli/keys.ts, docs/key-rotation.md).

export interface SigningKey {
  readonly kid: string;
  readonly alg: 'ES256';
  /** A node:crypto key: signing with it is synchronous and several times cheaper than WebCrypto. */
  readonly privateKey: KeyObject;
  readonly publicJwk: JWK;
}

export interface SigningKeys {
  /** The key that signs now. */
  readonly current: SigningKey;
  /** Public keys for /jwks.json: the current one first, then next and previous keys. */
  readonly jwks: { keys: JWK[] };
}

export async function generateSigningKey(): Promise<{ key: SigningKey; privateJwk: JWK }> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const privateJwk = await exportJWK(privateKey);
  return { key: await keyFromJwk(privateJwk), privateJwk };
}

/** A new private JWK for the key file, with its kid (the RFC 7638 thumbprint). */
export async function newStoredKey(activatesAt: number): Promise<StoredKey> {
  const { key, privateJwk } = await generateSigningKey();
  return { ...privateJwk, kid: key.kid, activatesAt: new Date(activatesAt).toISOString() };
}

async function keyFromJwk(privateJwk: JWK): Promise<SigningKey> {
  const { d, activatesAt: _activatesAt, ...pub } = privateJwk as StoredKey;
  const kid = privateJwk.kid ?? (await calculateJwkThumbprint(pub));
  const privateKey = createPrivateKey({ key: { ...pub, d } as JsonWebKey, format: 'jwk' });
  return { kid, alg: 'ES256', privateKey, publicJwk: { ...pub, kid, alg: 'ES256', use: 'sig' } };
}

/** A fixed single key (tests). */
export const signingKeysOf = (current: SigningKey): SigningKeys => ({ current, jwks: { keys: [current.publicJwk] } });

export interface KeyRingOptions {
  readonly clock?: Clock;
  /** How often the file is checked for a change (a stat; re-read only when it changed). 0: never. */
  readonly reloadIntervalMs?: number;
  /** A reload that failed: the keys loaded before stay in use. */
  readonly onReloadError?: (err: unknown) => void;
}

type LoadedKey = StoredKey & { signing: SigningKey };

/**
 * The keys of the file as the clock says they stand. Every process polls the
 * file's stat: a rotation written by `keys rotate` reaches them without a
 * restart (fs.watch misses changes on network and container volumes).
 */
export class SigningKeyRing implements SigningKeys {
  private keys: LoadedKey[] = [];
  private stamp = '';
  private view: { current: SigningKey; jwks: { keys: JWK[] }; until: number } | undefined;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly clock: Clock;

  private constructor(
    readonly dataDir: string,
    options: KeyRingOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    const interval = options.reloadIntervalMs ?? 10_000;
    if (interval > 0) {
      this.timer = setInterval(() => void this.reload().catch((err: unknown) => options.onReloadError?.(err)), interval);
      this.timer.unref();
    }
  }

  static async open(dataDir: string, options: KeyRingOptions = {}): Promise<SigningKeyRing> {
    const ring = new SigningKeyRing(dataDir, options);
    try {
      await ring.reload();
    } catch (err) {
      ring.close();
      throw err;
    }
    return ring;
  }

  get current(): SigningKey {
    return this.viewNow().current;
  }

  get jwks(): { keys: JWK[] } {
    return this.viewNow().jwks;
  }

  /** Re-read the file if it changed since the last read. */
  async reload(): Promise<void> {
    const info = await stat(keyFilePath(this.dataDir));
    const stamp = `${info.ino}:${info.size}:${info.mtimeMs}`;
    if (stamp === this.stamp) return;
    const stored = await readKeyFile(this.dataDir);
    const loaded = await Promise.all((stored ?? []).map(async (k) => ({ ...k, signing: await keyFromJwk(k) })));
    if (loaded.length === 0) throw new Error('the signing key file holds no keys');
    this.keys = loaded;
    this.stamp = stamp;
    this.view = undefined;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private viewNow() {
    const now = this.clock.now();
    if (this.view && now < this.view.until) return this.view;
    const states = keyStates(this.keys, now);
    const current = states.find((s) => s.state === 'current')!.key.signing;
    const others = states.filter((s) => s.state !== 'current').map((s) => s.key.signing.publicJwk);
    this.view = { current, jwks: { keys: [current.publicJwk, ...others] }, until: nextChange(this.keys, now) };
    return this.view;
  }
}

/** Open the key file in DATA_DIR, creating it (mode 0600) with one current key on first start. */
export async function loadOrCreateSigningKeys(dataDir: string, options: KeyRingOptions = {}): Promise<SigningKeyRing> {
  if ((await readKeyFile(dataDir)) === undefined) {
    await writeKeyFile(dataDir, [await newStoredKey((options.clock ?? systemClock).now())], { create: true }).catch((err: NodeJS.ErrnoException) => {
      // Another process created it first: use theirs.
      if (err.code !== 'EEXIST') throw err;
    });
  }
  return SigningKeyRing.open(dataDir, options);
}
