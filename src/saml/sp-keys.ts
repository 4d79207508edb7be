import { generateKeyPairSync, createHash, randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import forge from 'node-forge';
import { systemClock, type Clock } from '../clock.js';
import { keyStates, writeFileAtomically, type KeyState } from '../crypto/signing-key-file.js';

// DATA_DIR/saml-sp-keys.json: the gateway's SAML service-provider keys (RSA
// 2048 with a self-signed certificate, as SAML metadata carries keys), each
// with the moment it starts being used. States as for the OIDC signing keys
// (docs/key-rotation.md): `next` is published in the SP metadata before it
// signs requests, `current` signs AuthnRequests and is the first key tried to
// decrypt, `previous` still decrypts until removed. docs/saml.md, "Keys".

export const SP_KEYS_FILE = 'saml-sp-keys.json';

export interface SpKey {
  readonly kid: string;
  readonly activatesAt?: string;
  /** PKCS#8 PEM. */
  readonly privateKey: string;
  /** X.509 PEM. */
  readonly cert: string;
}

export interface SpKeyView {
  readonly current: SpKey;
  /** Every key of the file with its state, current first: all are published, all may decrypt. */
  readonly all: readonly { readonly key: SpKey; readonly state: KeyState }[];
}

export interface SpKeys {
  view(): Promise<SpKeyView>;
}

const filePath = (dataDir: string): string => join(dataDir, SP_KEYS_FILE);

/** A new key pair with a self-signed certificate valid for ten years (SAML metadata trusts the key, not the certificate's dates). */
export function newSpKey(activatesAt?: number): SpKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = `01${randomBytes(15).toString('hex')}`;
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 10 * 365 * 86_400_000);
  const name = [{ name: 'commonName', value: 'pseudonym-gateway SAML SP' }];
  cert.setSubject(name);
  cert.setIssuer(name);
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  cert.sign(forge.pki.privateKeyFromPem(pem), forge.md.sha256.create());
  const certPem = forge.pki.certificateToPem(cert);
  const kid = createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('base64url').slice(0, 16);
  return { kid, privateKey: pem, cert: certPem, ...(activatesAt === undefined ? {} : { activatesAt: new Date(activatesAt).toISOString() }) };
}

async function readSpKeys(dataDir: string): Promise<SpKey[] | undefined> {
  const text = await readFile(filePath(dataDir), 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (text === undefined) return undefined;
  const keys = (JSON.parse(text) as { keys?: SpKey[] }).keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new Error(`${SP_KEYS_FILE} holds no keys`);
  return keys;
}

/** Replace the file in one step (src/crypto/signing-key-file.ts: a reader sees the old keys or the new ones). */
export const writeSpKeys = (dataDir: string, keys: readonly SpKey[], options: { create?: boolean } = {}): Promise<void> =>
  writeFileAtomically(dataDir, SP_KEYS_FILE, { keys }, options);

/** Add the next key, published at once and used from `activatesAt` (the `keys saml-rotate` procedure in docs/saml.md). */
export async function rotateSpKeys(dataDir: string, activatesAt: number): Promise<SpKey> {
  const keys = (await readSpKeys(dataDir)) ?? [];
  const key = newSpKey(activatesAt);
  await writeSpKeys(dataDir, [...keys, key]);
  return key;
}

/** Remove the keys that stopped being current; IdPs may keep encrypting to them until they refresh the SP metadata, so wait for that first. */
export async function retireSpKeys(dataDir: string, now: number): Promise<string[]> {
  const keys = (await readSpKeys(dataDir)) ?? [];
  const previous = new Set(keyStates(keys.map((k) => ({ ...k, kty: 'RSA' })), now).filter((k) => k.state === 'previous').map((k) => k.key.kid));
  if (previous.size) await writeSpKeys(dataDir, keys.filter((k) => !previous.has(k.kid)));
  return [...previous];
}

/**
 * The key file of DATA_DIR, created with one current key on first use, and
 * re-read when its stat changes (checked at most every `reloadMs`), so a
 * rotation reaches every process without a restart.
 */
export function spKeysIn(dataDir: string, options: { clock?: Clock; reloadMs?: number } = {}): SpKeys {
  const clock = options.clock ?? systemClock;
  const reloadMs = options.reloadMs ?? 10_000;
  let loaded: { keys: SpKey[]; stamp: string; checkedAt: number } | undefined;
  let loading: Promise<SpKey[]> | undefined;

  async function load(): Promise<SpKey[]> {
    if ((await readSpKeys(dataDir)) === undefined) {
      await writeSpKeys(dataDir, [newSpKey()], { create: true }).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
      });
    }
    const info = await stat(filePath(dataDir));
    const stamp = `${info.ino}:${info.size}:${info.mtimeMs}`;
    if (loaded?.stamp !== stamp) loaded = { keys: (await readSpKeys(dataDir))!, stamp, checkedAt: clock.now() };
    loaded.checkedAt = clock.now();
    return loaded.keys;
  }

  async function keys(): Promise<SpKey[]> {
    if (loaded && clock.now() < loaded.checkedAt + reloadMs) return loaded.keys;
    loading ??= load().finally(() => (loading = undefined));
    // A reload that fails keeps the keys loaded before (a half-mounted volume must not stop logins).
    return loaded ? loading.catch(() => loaded!.keys) : loading;
  }

  return {
    async view() {
      const now = clock.now();
      const states = keyStates((await keys()).map((k) => ({ ...k, kty: 'RSA' })), now);
      const all = states
        .map(({ key: { kty: _kty, ...key }, state }) => ({ key: key, state }))
        .sort((a, b) => Number(b.state === 'current') - Number(a.state === 'current'));
      return { current: all[0]!.key, all };
    },
  };
}
