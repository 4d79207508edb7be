import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { homeApp } from './home.js';
import { loadOrCreateDemoKeys } from './keys.js';
import { publisherApp, type Received } from './publisher.js';
import { schoolIdp } from './school-idp.js';
import { importRoster, startUpstreamSchool } from './upstream-school.js';
import { demoSeed, PUBLISHERS, type DemoUrls } from './world.js';

// Starts the whole demo: the gateway (as its own process, on embedded
// defaults plus the demo's seed file), the demo school IdP, two publishers
// and the home page. The gateway is on `localhost`, everything else on
// 127.0.0.1: to the browser they are different sites, as in real life.

export interface DemoPorts {
  gateway: number;
  school: number;
  rekenmeester: number;
  taalkanjer: number;
  home: number;
  /** The third school's own OpenID provider; a free port when not given. */
  upstream?: number;
}

export const DEFAULT_PORTS: DemoPorts = { gateway: 3000, school: 3001, rekenmeester: 3002, taalkanjer: 3003, home: 3004, upstream: 3005 };

export interface Demo {
  readonly urls: DemoUrls;
  /** The third school's own OpenID provider. */
  readonly upstreamIssuer: string;
  close(): Promise<void>;
}

const root = fileURLToPath(new URL('..', import.meta.url));

export async function startDemo(options: { dataDir: string; ports?: DemoPorts; gatewayEnv?: Record<string, string> }): Promise<Demo> {
  const ports = options.ports ?? DEFAULT_PORTS;
  const dataDir = resolve(options.dataDir);
  const urls: DemoUrls = {
    gateway: `http://localhost:${ports.gateway}`,
    school: `http://127.0.0.1:${ports.school}`,
    rekenmeester: `http://127.0.0.1:${ports.rekenmeester}`,
    taalkanjer: `http://127.0.0.1:${ports.taalkanjer}`,
    home: `http://127.0.0.1:${ports.home}`,
  };
  const keys = await loadOrCreateDemoKeys(dataDir);
  await mkdir(join(dataDir, 'demo'), { recursive: true });
  const seedFile = join(dataDir, 'demo', 'seed.json');
  const upstream = await startUpstreamSchool(urls.gateway, ports.upstream);
  const seed = demoSeed(urls, keys);
  await writeFile(seedFile, JSON.stringify({ ...seed, schools: [...seed.schools, upstream.school], licences: [...seed.licences, ...upstream.licences] }, null, 2));

  // The admin API imports the third school's roster, as its administration system would.
  const gatewayEnv = { OPERATOR_BOOTSTRAP_TOKEN: randomBytes(32).toString('base64url'), ...options.gatewayEnv };
  let gateway: ChildProcess;
  try {
    gateway = await startGatewayProcess(dataDir, seedFile, ports.gateway, gatewayEnv);
    await importRoster(`http://127.0.0.1:${ports.gateway}`, gatewayEnv.OPERATOR_BOOTSTRAP_TOKEN).catch(async (err: unknown) => {
      await stopProcess(gateway);
      throw err;
    });
  } catch (err) {
    await upstream.idp.close();
    throw err;
  }
  const received: Received = new Map();
  const apps: [FastifyInstance, number][] = [
    [schoolIdp(urls, keys), ports.school],
    ...PUBLISHERS.map((p): [FastifyInstance, number] => [publisherApp(p, urls, keys, received), ports[p.clientId]]),
    [homeApp(urls, received), ports.home],
  ];
  try {
    for (const [app, port] of apps) await app.listen({ host: '127.0.0.1', port });
  } catch (err) {
    await Promise.all(apps.map(([app]) => app.close()));
    gateway.kill('SIGTERM');
    await upstream.idp.close();
    throw err;
  }
  return {
    urls,
    upstreamIssuer: upstream.idp.issuer,
    async close() {
      await Promise.all(apps.map(([app]) => app.close()));
      await stopProcess(gateway);
      await upstream.idp.close();
    },
  };
}

async function startGatewayProcess(dataDir: string, seedFile: string, port: number, env: Record<string, string>): Promise<ChildProcess> {
  const log = createWriteStream(join(dataDir, 'demo', 'gateway.log'), { flags: 'a' });
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), join(root, 'src/main.ts')], {
    cwd: root,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', ISSUER: `http://localhost:${port}`, DATA_DIR: dataDir, SEED_FILE: seedFile, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`the gateway exited (code ${code}); see ${join(dataDir, 'demo', 'gateway.log')}`))));
  const ready = (async () => {
    for (let i = 0; i < 900; i++) {
      const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
      if (ok) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('the gateway did not become ready within 90 s');
  })();
  try {
    await Promise.race([ready, exited]);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  exited.catch(() => undefined);
  return child;
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolveStop) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolveStop();
    });
    child.kill('SIGTERM');
  });
}
