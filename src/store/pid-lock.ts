import { readFile, rm, writeFile } from 'node:fs/promises';

// One process at a time: a lock file holding the owner's pid. A lock whose
// process is gone (a crash) is taken over.

export class LockedError extends Error {}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Take the lock at `path`; returns its release. Throws LockedError while another live process holds it. */
export async function takePidLock(path: string, what: string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(path, String(process.pid), { flag: 'wx', mode: 0o600 });
      return () => rm(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
        throw new LockedError(`${what} is in use by process ${owner}`);
      }
      await rm(path, { force: true });
    }
  }
  throw new LockedError(`${what}: could not take ${path}`);
}
