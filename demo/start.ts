import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { homeApp } from './home.js';
import { loadOrCreateDemoKeys } from './keys.js';
import { publisherApp, type Received } from './publisher.js';
import { registerSamlSchool } from './saml-school.js';
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

/** The demo's ports from DEMO_PORT, the first of consecutive ports (default 3000), in the order of DEFAULT_PORTS. */
export function demoPorts(first: number): DemoPorts {
  return { gateway: first, school: first + 1, rekenmeester: first + 2, taalkanjer: first + 3, home: first + 4, upstream: first + 5 };
}

/** A port the demo could not take: one line for the person who started it (demo/run.ts prints it). */
export class DemoPortError extends Error {}

export interface Demo {
  readonly urls: DemoUrls;
  /** An operator token for the gateway's admin API, made at this start for the demo only. */
  readonly operatorToken: string;
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
  // Taken ports are found before anything starts: else a second demo would find the first one's gateway ready.
  for (const [name, port] of Object.entries(ports) as [string, number][]) await checkFree(name, port);
  const upstream = await startUpstreamSchool(urls.gateway, ports.upstream);
  const seed = demoSeed(urls, keys);
  await writeFile(seedFile, JSON.stringify({ ...seed, schools: [...seed.schools, upstream.school], licences: [...seed.licences, ...upstream.licences] }, null, 2));

  // The demo's operator token: random at every start, accepted only by this gateway process. With it
  // the admin API imports the third school's roster, as its administration system would.
  const operatorToken = `demo-${randomBytes(32).toString('base64url')}`;
  const gatewayEnv = { OPERATOR_BOOTSTRAP_TOKEN: operatorToken, ...options.gatewayEnv };
  let gateway: ChildProcess;
  try {
    gateway = await startGatewayProcess(dataDir, seedFile, ports.gateway, gatewayEnv);
    await importRoster(`http://127.0.0.1:${ports.gateway}`, operatorToken).catch(async (err: unknown) => {
      await stopProcess(gateway);
      throw err;
    });
  } catch (err) {
    await upstream.idp.close();
    throw err;
  }
  const received: Received = new Map();
  const schools = schoolIdp(urls, keys);
  registerSamlSchool(schools, urls);
  const apps: [FastifyInstance, number][] = [
    [schools, ports.school],
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
    operatorToken,
    upstreamIssuer: upstream.idp.issuer,
    async close() {
      await Promise.all(apps.map(([app]) => app.close()));
      await stopProcess(gateway);
      await upstream.idp.close();
    },
  };
}

function checkFree(name: string, port: number): Promise<void> {
  return new Promise((resolveFree, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new DemoPortError(`demo: port ${port} (${name}) on 127.0.0.1 is already in use, perhaps by another demo; start with DEMO_PORT=<first free port> (the demo takes ${Object.keys(DEFAULT_PORTS).length} ports from it)`) : err));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolveFree()));
  });
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
