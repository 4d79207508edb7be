import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { LockedError, takePidLock } from '../../src/store/pid-lock.js';

// The embedded database's guard against a second process opening it.

it('refuses a lock held by a live process, takes over one left by a dead process, and releases it', async () => {
  const path = join(await mkdtemp(join(tmpdir(), 'pgw-lock-')), 'db.lock');
  await writeFile(path, String(process.ppid));
  await expect(takePidLock(path, 'the test database')).rejects.toThrow(new LockedError(`the test database is in use by process ${process.ppid}`));

  const dead = spawnSync(process.execPath, ['-e', '']).pid;
  await writeFile(path, String(dead));
  const release = await takePidLock(path, 'the test database');
  expect(await readFile(path, 'utf8')).toBe(String(process.pid));
  await release();
  await expect(readFile(path, 'utf8')).rejects.toThrow(/ENOENT/);
});
