import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './net.js';

// Throwaway Redis topologies on loopback ports in a temp dir: a primary and a
// replica watched by one Sentinel, and a three-primary Cluster. Each test file stops its own.

const run = promisify(execFile);

function startServer(args: string[], ready: RegExp, cwd: string): Promise<ChildProcess> {
  const child = spawn('redis-server', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`redis-server ${args.join(' ')} not ready within 10 s:\n${out}`)), 10_000);
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}:\n${out}`));
    });
  });
}

async function stopAll(children: ChildProcess[], dir: string): Promise<void> {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
  await rm(dir, { recursive: true, force: true });
}

const plain = (port: number) => ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];

export interface Topology {
  stop(): Promise<void>;
}

export interface SentinelTopology extends Topology {
  sentinels: { host: string; port: number }[];
  primaryPort: number;
  replicaPort: number;
  /** What the Sentinel answers as the current primary's port. */
  currentPrimary(): Promise<number>;
  /** SENTINEL FAILOVER, once the Sentinel knows the replica; resolves when it names the replica as primary. */
  failover(): Promise<void>;
}

/** A primary, one replica, and one Sentinel monitoring them under `name` (quorum 1). */
export async function startSentinel(name: string): Promise<SentinelTopology> {
  const dir = await mkdtemp(join(tmpdir(), 'pgw-sentinel-'));
  const children: ChildProcess[] = [];
  const [primaryPort, replicaPort, sentinelPort] = [await freePort(), await freePort(), await freePort()];
  try {
    children.push(await startServer(plain(primaryPort), /Ready to accept connections/, dir));
    children.push(await startServer([...plain(replicaPort), '--replicaof', '127.0.0.1', String(primaryPort)], /MASTER <-> REPLICA sync: Finished/, dir));
    const conf = join(dir, 'sentinel.conf');
    // Sentinel rewrites its config file, so it lives in the temp dir.
    await writeFile(
      conf,
      [
        `port ${sentinelPort}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${name} 127.0.0.1 ${primaryPort} 1`,
        `sentinel down-after-milliseconds ${name} 2000`,
        `sentinel failover-timeout ${name} 10000`,
        '',
      ].join('\n'),
    );
    children.push(await startServer([conf, '--sentinel'], /\+monitor master/, dir));
  } catch (err) {
    await stopAll(children, dir);
    throw err;
  }
  const sentinel = (...args: string[]) => run('redis-cli', ['-p', String(sentinelPort), 'sentinel', ...args]);
  const currentPrimary = async () => Number((await sentinel('get-master-addr-by-name', name)).stdout.trim().split('\n')[1]);
  const until = async (what: string, check: () => Promise<boolean>) => {
    const deadline = Date.now() + 30_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`sentinel: ${what} did not happen within 30 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  return {
    sentinels: [{ host: '127.0.0.1', port: sentinelPort }],
    primaryPort,
    replicaPort,
    currentPrimary,
    async failover() {
      await until('replica discovery', async () => (await sentinel('replicas', name)).stdout.includes(String(replicaPort)));
      await until('failover', async () => {
        await sentinel('failover', name).catch(() => undefined);
        return (await currentPrimary()) === replicaPort;
      });
    },
    stop: () => stopAll(children, dir),
  };
}

/** Three cluster-enabled primaries joined into one Cluster covering all 16384 slots. */
export async function startCluster(): Promise<Topology & { nodes: { host: string; port: number }[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'pgw-cluster-'));
  const children: ChildProcess[] = [];
  const ports = [await freePort(), await freePort(), await freePort()];
  try {
    for (const port of ports) {
      const args = [...plain(port), '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--dir', dir];
      children.push(await startServer(args, /Ready to accept connections/, dir));
    }
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { timeout: 20_000 });
    const deadline = Date.now() + 15_000;
    for (const port of ports) {
      while (!(await run('redis-cli', ['-p', String(port), 'cluster', 'info'])).stdout.includes('cluster_state:ok')) {
        if (Date.now() > deadline) throw new Error('the cluster did not reach cluster_state:ok');
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } catch (err) {
    await stopAll(children, dir);
    throw err;
  }
  return { nodes: ports.map((port) => ({ host: '127.0.0.1', port })), stop: () => stopAll(children, dir) };
}
