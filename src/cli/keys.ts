import { loadConfig } from '../config.js';
import { keyStates, readKeyFile, writeKeyFile, type KeyState } from '../crypto/signing-key-file.js';
import { newStoredKey } from '../crypto/signing-keys.js';
import { retireSpKeys, rotateSpKeys } from '../saml/sp-keys.js';

// `keys list|rotate|retire`: signing-key rotation without breaking a relying
// party (docs/key-rotation.md). `rotate` adds a key that is published at once
// and signs only SIGNING_KEY_PREPUBLISH_S later; `retire` removes keys that
// stopped signing at least that long ago. Running gateways pick up the file.

export class KeyCommandError extends Error {}

export interface KeyListing {
  kid: string;
  state: KeyState;
  activatesAt: string;
}

export async function listKeys(dataDir: string, now: number): Promise<KeyListing[]> {
  const keys = await readKeyFile(dataDir);
  if (!keys) throw new KeyCommandError(`no signing keys in ${dataDir} yet (the gateway creates them on first start)`);
  return keyStates(keys, now).map(({ key, state, activatesAt }) => ({ kid: key.kid, state, activatesAt: new Date(activatesAt).toISOString() }));
}

/**
 * Add the next key. `immediate` (the current key is compromised) makes it sign
 * at once, before relying parties can have seen it; with a next key already
 * published, that one signs at once instead.
 */
export async function rotateKeys(dataDir: string, opts: { now: number; prepublishS: number; immediate?: boolean }): Promise<KeyListing> {
  const keys = await readKeyFile(dataDir);
  if (!keys) throw new KeyCommandError(`no signing keys in ${dataDir} yet (the gateway creates them on first start)`);
  const pending = keyStates(keys, opts.now).find((k) => k.state === 'next');
  if (pending && opts.immediate) {
    // An emergency with a rotation under way: the published next key signs from now.
    const activatesAt = new Date(opts.now).toISOString();
    await writeKeyFile(dataDir, keys.map((k) => (k === pending.key ? { ...k, activatesAt } : k)));
    return { kid: pending.key.kid, state: 'current', activatesAt };
  }
  if (pending) throw new KeyCommandError(`key ${pending.key.kid} is already next (signs from ${new Date(pending.activatesAt).toISOString()})`);
  const activatesAt = opts.immediate ? opts.now : opts.now + opts.prepublishS * 1000;
  const added = await newStoredKey(activatesAt);
  await writeKeyFile(dataDir, [...keys, added]);
  return { kid: added.kid, state: opts.immediate ? 'current' : 'next', activatesAt: added.activatesAt! };
}

/**
 * Remove the previous keys once the current one has signed for retireAfterS:
 * by then no unexpired token or login request carries their signature.
 */
export async function retireKeys(dataDir: string, opts: { now: number; retireAfterS: number; force?: boolean }): Promise<string[]> {
  const keys = await readKeyFile(dataDir);
  if (!keys) throw new KeyCommandError(`no signing keys in ${dataDir} yet`);
  const states = keyStates(keys, opts.now);
  const current = states.find((k) => k.state === 'current')!;
  const previous = states.filter((k) => k.state === 'previous');
  if (previous.length === 0) return [];
  const allowedAt = current.activatesAt + opts.retireAfterS * 1000;
  if (opts.now < allowedAt && !opts.force) {
    throw new KeyCommandError(`the previous keys may still verify live tokens: retire them from ${new Date(allowedAt).toISOString()} (or --force)`);
  }
  const gone = new Set(previous.map((k) => k.key.kid));
  await writeKeyFile(dataDir, keys.filter((k) => !gone.has(k.kid)));
  return [...gone];
}

const USAGE = 'usage: keys list | keys rotate [--immediate] | keys retire [--force] | keys saml-rotate | keys saml-retire';

/** The command line: prints what it did; returns the exit code. */
export async function runKeysCommand(args: string[], out: (line: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const config = loadConfig(env);
  const dataDir = config.DATA_DIR;
  const now = Date.now();
  const [verb, ...flags] = args;
  const flag = (name: string) => flags.includes(name);
  const unknown = flags.filter((f) => !['--immediate', '--force'].includes(f));
  if (unknown.length) throw new KeyCommandError(`unknown option ${unknown.join(' ')}\n${USAGE}`);
  switch (verb ?? '') {
    case 'list':
      for (const k of await listKeys(dataDir, now)) out(`${k.kid}  ${k.state.padEnd(8)}  ${k.activatesAt}`);
      return 0;
    case 'rotate': {
      const added = await rotateKeys(dataDir, { now, prepublishS: config.SIGNING_KEY_PREPUBLISH_S, immediate: flag('--immediate') });
      out(`added ${added.kid}: published now, signs from ${added.activatesAt}`);
      return 0;
    }
    case 'retire': {
      const retired = await retireKeys(dataDir, { now, retireAfterS: config.SIGNING_KEY_PREPUBLISH_S, force: flag('--force') });
      out(retired.length ? `retired ${retired.join(', ')}` : 'no previous keys to retire');
      return 0;
    }
    // The SAML SP keys (docs/saml.md, "Keys"): published in the SP metadata now, used SIGNING_KEY_PREPUBLISH_S later.
    case 'saml-rotate': {
      const added = await rotateSpKeys(dataDir, now + config.SIGNING_KEY_PREPUBLISH_S * 1000);
      out(`added SAML SP key ${added.kid}: published now, used from ${added.activatesAt}`);
      return 0;
    }
    case 'saml-retire': {
      const retired = await retireSpKeys(dataDir, now);
      out(retired.length ? `retired SAML SP keys ${retired.join(', ')}` : 'no previous SAML SP keys to retire');
      return 0;
    }
    default:
      throw new KeyCommandError(USAGE);
  }
}
