import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';

// The gateway's own key for private_key_jwt towards upstream OpenID providers
// (docs/upstream-oidc.md): one ES256 key in DATA_DIR/upstream-client-key.json,
// made on first start, shared by every process on that DATA_DIR, its public
// half published at ISSUER/school/oidc/jwks.json for the providers to read.

export const UPSTREAM_CLIENT_KEY_FILE = 'upstream-client-key.json';
const ALG = 'ES256';

export interface UpstreamClientKey {
  readonly privateKey: CryptoKey;
  readonly kid: string;
  /** The public half, as published. */
  readonly publicJwk: JWK;
}

async function keyOf(jwk: JWK): Promise<UpstreamClientKey> {
  const { d: _d, ...publicJwk } = jwk;
  return {
    privateKey: (await importJWK(jwk, ALG)) as CryptoKey,
    kid: jwk.kid!,
    publicJwk: { kty: publicJwk.kty, crv: publicJwk.crv, x: publicJwk.x, y: publicJwk.y, kid: jwk.kid, alg: ALG, use: 'sig' } as JWK,
  };
}

async function newPrivateJwk(): Promise<JWK> {
  const { privateKey } = await generateKeyPair(ALG, { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: await calculateJwkThumbprint(jwk), alg: ALG };
}

/** A key that lives as long as the process (tests, and an app built without one). */
export const generateUpstreamClientKey = async (): Promise<UpstreamClientKey> => keyOf(await newPrivateJwk());

/** The key in DATA_DIR, made on first use; a process racing another to make it reads the winner's. */
export async function loadOrCreateUpstreamClientKey(dataDir: string): Promise<UpstreamClientKey> {
  const path = join(dataDir, UPSTREAM_CLIENT_KEY_FILE);
  const existing = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (existing !== undefined) return keyOf(JSON.parse(existing) as JWK);
  await mkdir(dataDir, { recursive: true });
  const jwk = await newPrivateJwk();
  // Written whole beside it, then linked into place: a link never replaces a key another process
  // made meanwhile (providers may already hold its public half), and a reader never sees half a file.
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temp, JSON.stringify(jwk), { flag: 'wx', mode: 0o600 });
  try {
    await link(temp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return loadOrCreateUpstreamClientKey(dataDir);
  } finally {
    await unlink(temp);
  }
  return keyOf(jwk);
}
