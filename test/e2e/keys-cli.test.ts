import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadOrCreateSigningKeys } from '../../src/crypto/signing-keys.js';
import { spKeysIn } from '../../src/saml/sp-keys.js';
import { runCli } from '../helpers/cli.js';

// The operator's command line (`node dist/cli.js keys ...`, `npm run keys -- ...`), run as a process.

const cli = runCli;

describe('keys command line', () => {
  it('lists, rotates (one pending rotation at a time), retires nothing without a previous key, with exit codes', async () => {
    const env = { DATA_DIR: join(await mkdtemp(join(tmpdir(), 'pgw-cli-')), 'data'), SIGNING_KEY_PREPUBLISH_S: '600' };
    expect(await cli(['keys', 'list'], env)).toMatchObject({ code: 1, err: expect.stringContaining('no signing keys') as unknown });
    const ring = await loadOrCreateSigningKeys(env.DATA_DIR, { reloadIntervalMs: 0 });
    const kid = ring.current.kid;

    const rotated = await cli(['keys', 'rotate'], env);
    expect(rotated.code).toBe(0);
    const added = /^added (\S+): published now, signs from (\S+)$/m.exec(rotated.out);
    expect(added).not.toBeNull();
    expect(Date.parse(added![2]!) - Date.now()).toBeGreaterThan(500_000);

    expect(await cli(['keys', 'rotate'], env)).toMatchObject({ code: 1, err: expect.stringContaining('is already next') as unknown });
    const listed = await cli(['keys', 'list'], env);
    expect(listed.out.trim().split('\n').map((line) => line.split(/\s+/).slice(0, 2))).toEqual([
      [kid, 'current'],
      [added![1], 'next'],
    ]);
    expect(await cli(['keys', 'retire'], env)).toMatchObject({ code: 0, out: 'no previous keys to retire\n' });
    expect((await cli(['keys', 'spin'], env)).code).toBe(1);
    expect((await cli(['nothing'], env)).code).toBe(2);

    // The running gateway's ring sees the published next key after a reload; the current key still signs.
    await ring.reload();
    expect(ring.jwks.keys.map((k) => k.kid)).toEqual([kid, added![1]]);
    expect(ring.current.kid).toBe(kid);
  }, 120_000);

  it('saml-rotate adds the next SAML SP key (published now, used later); saml-retire finds no previous key then', async () => {
    const env = { DATA_DIR: join(await mkdtemp(join(tmpdir(), 'pgw-cli-')), 'data'), SIGNING_KEY_PREPUBLISH_S: '600' };
    await spKeysIn(env.DATA_DIR).view();
    const rotated = await cli(['keys', 'saml-rotate'], env);
    expect(rotated.code).toBe(0);
    const added = /^added SAML SP key (\S+): published now, used from (\S+)$/m.exec(rotated.out);
    expect(Date.parse(added![2]!) - Date.now()).toBeGreaterThan(500_000);
    const view = await spKeysIn(env.DATA_DIR).view();
    expect(view.all.map((k) => k.state)).toEqual(['current', 'next']);
    expect(view.all[1]!.key.kid).toBe(added![1]);
    expect(await cli(['keys', 'saml-retire'], env)).toMatchObject({ code: 0, out: 'no previous SAML SP keys to retire\n' });
  }, 120_000);
});
