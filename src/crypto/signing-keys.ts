import { createPrivateKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';

// The gateway's own ES256 signing key (id_tokens, login requests to schools).
// Generated into DATA_DIR on first start; the file holds the private JWK.

export interface SigningKey {
  readonly kid: string;
  readonly alg: 'ES256';
  /** A node:crypto key: signing with it is synchronous and several times cheaper than WebCrypto. */
  readonly privateKey: KeyObject;
  readonly publicJwk: JWK;
}

export interface SigningKeys {
  readonly current: SigningKey;
  /** Public keys for /jwks.json: the current one first. */
  readonly jwks: { keys: JWK[] };
}

const FILE = 'signing-keys.json';

export async function generateSigningKey(): Promise<{ key: SigningKey; privateJwk: JWK }> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const privateJwk = await exportJWK(privateKey);
  return { key: await keyFromJwk(privateJwk), privateJwk };
}

async function keyFromJwk(privateJwk: JWK): Promise<SigningKey> {
  const { d: _d, ...pub } = privateJwk;
  const kid = privateJwk.kid ?? (await calculateJwkThumbprint(pub));
  const privateKey = createPrivateKey({ key: privateJwk as JsonWebKey, format: 'jwk' });
  return { kid, alg: 'ES256', privateKey, publicJwk: { ...pub, kid, alg: 'ES256', use: 'sig' } };
}

export const signingKeysOf = (current: SigningKey): SigningKeys => ({ current, jwks: { keys: [current.publicJwk] } });

/** Load the key from DATA_DIR, or create it there (mode 0600) on first start. */
export async function loadOrCreateSigningKeys(dataDir: string): Promise<SigningKeys> {
  const path = join(dataDir, FILE);
  const existing = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (existing) {
    const { keys } = JSON.parse(existing) as { keys: JWK[] };
    return signingKeysOf(await keyFromJwk(keys[0]!));
  }
  const { key, privateJwk } = await generateSigningKey();
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await writeFile(path, JSON.stringify({ keys: [{ ...privateJwk, kid: key.kid }] }), { mode: 0o600, flag: 'wx' });
  return signingKeysOf(key);
}
