import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keyFilePath, keyStates, nextChange, type StoredKey } from '../../src/crypto/signing-key-file.js';
import { loadOrCreateSigningKeys, newStoredKey } from '../../src/crypto/signing-keys.js';
import { TestClock } from '../helpers/clock.js';

const key = (kid: string, activatesAt?: string): StoredKey => ({ kty: 'EC', kid, ...(activatesAt === undefined ? {} : { activatesAt }) });
const T = Date.parse('2026-11-23T12:00:00Z');

describe('signing-key states', () => {
  it('derives next, current and previous from activation times and the clock alone', () => {
    const keys = [key('c', '2026-11-23T13:00:00Z'), key('a'), key('b', '2026-11-23T11:00:00Z')];
    expect(keyStates(keys, T).map(({ key: k, state }) => [k.kid, state])).toEqual([
      ['a', 'previous'],
      ['b', 'current'],
      ['c', 'next'],
    ]);
    expect(keyStates(keys, Date.parse('2026-11-23T13:00:00Z')).map((s) => s.state)).toEqual(['previous', 'previous', 'current']);
    expect(nextChange(keys, T)).toBe(Date.parse('2026-11-23T13:00:00Z'));
    expect(nextChange(keys, Date.parse('2026-11-23T13:00:00Z'))).toBe(Infinity);
  });

  it('reads a key file from before rotation (one key, no activatesAt) as current', () => {
    expect(keyStates([key('legacy')], T).map((s) => s.state)).toEqual(['current']);
  });

  it('lets the earliest key sign when every key lies in the future (clocks apart), rather than none', () => {
    expect(keyStates([key('x', '2026-11-23T14:00:00Z'), key('y', '2026-11-23T15:00:00Z')], T).map((s) => s.state)).toEqual(['current', 'next']);
  });
});

async function until(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('the key ring of a running process', () => {
  it('keeps the keys it has when the file becomes unreadable, reports it, and takes the next good file', async () => {
    const dataDir = join(await mkdtemp(join(tmpdir(), 'pgw-ring-')), 'data');
    const clock = new TestClock();
    const errors: unknown[] = [];
    const ring = await loadOrCreateSigningKeys(dataDir, { clock, reloadIntervalMs: 10, onReloadError: (err) => errors.push(err) });
    const kid = ring.current.kid;
    await writeFile(keyFilePath(dataDir), '{"keys": [');
    await until(() => errors.length > 0);
    expect(errors[0]).toBeInstanceOf(SyntaxError);
    expect(ring.current.kid).toBe(kid);
    const next = await newStoredKey(clock.now() - 1);
    await writeFile(keyFilePath(dataDir), JSON.stringify({ keys: [next] }));
    await until(() => ring.current.kid === next.kid);
    expect(ring.jwks.keys.map((k) => k.kid)).toEqual([next.kid]);
    expect(ring.jwks.keys[0]).not.toHaveProperty('d');
    expect(ring.jwks.keys[0]).not.toHaveProperty('activatesAt');
    ring.close();
  });
});
