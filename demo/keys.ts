import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';

// The demo's own keys (two school IdPs, one publisher key, one publisher
// secret), generated on first start into DATA_DIR/demo and reused, so the
// registrations stay the same between runs. Never committed: DATA_DIR is ignored.

export interface DemoKeys {
  regenboog: { privateKey: CryptoKey; publicJwk: JWK };
  kompas: { privateKey: CryptoKey; publicJwk: JWK };
  rekenmeester: { privateKey: CryptoKey; publicJwk: JWK };
  taalkanjerSecret: string;
}

interface Stored {
  regenboog: JWK;
  kompas: JWK;
  rekenmeester: JWK;
  taalkanjerSecret: string;
}

async function newKey(kid: string): Promise<JWK> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg: 'ES256' };
}

async function load(jwk: JWK) {
  const { d: _d, ...publicJwk } = jwk;
  return { privateKey: (await importJWK(jwk, 'ES256')) as CryptoKey, publicJwk: { ...publicJwk, use: 'sig' } };
}

export async function loadOrCreateDemoKeys(dataDir: string): Promise<DemoKeys> {
  const dir = join(dataDir, 'demo');
  const file = join(dir, 'demo-keys.json');
  let stored: Stored;
  try {
    stored = JSON.parse(await readFile(file, 'utf8')) as Stored;
  } catch {
    stored = {
      regenboog: await newKey('regenboog-1'),
      kompas: await newKey('kompas-1'),
      rekenmeester: await newKey('rekenmeester-1'),
      taalkanjerSecret: randomBytes(32).toString('base64url'),
    };
    await mkdir(dir, { recursive: true });
    await writeFile(file, JSON.stringify(stored), { mode: 0o600 });
  }
  return {
    regenboog: await load(stored.regenboog),
    kompas: await load(stored.kompas),
    rekenmeester: await load(stored.rekenmeester),
    taalkanjerSecret: stored.taalkanjerSecret,
  };
}
