import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

// The gateway as production runs it: tsc output started with `node
// dist/main.js` in a child process, so signals, exit codes and the real
// listener are what a test sees.

const root = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Compile src/ as `npm run build` does, into a private directory inside the
 * repository (packages resolve from its node_modules, package.json makes it
 * ESM), so parallel test files never share a half-written dist/.
 */
export async function buildDist(): Promise<{ main: string; remove(): Promise<void> }> {
  const outDir = `${root}test-artifacts/dist-${randomBytes(4).toString('hex')}`;
  await promisify(execFile)(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', `${root}tsconfig.build.json`, '--outDir', outDir], { cwd: root });
  // The SQL migrations travel beside the compiled migrator, as `npm run build` copies them.
  await cp(`${root}src/store/migrations`, `${outDir}/store/migrations`, { recursive: true });
  return { main: `${outDir}/main.js`, remove: () => rm(outDir, { recursive: true, force: true }) };
}

export interface GatewayProcess {
  readonly child: ChildProcess;
  /** Every line the process wrote to stdout and stderr. */
  readonly lines: string[];
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** Resolves once a line matching `pattern` has been written. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  kill(signal?: NodeJS.Signals): void;
}

/**
 * Start `node <main>` with exactly `env` (plus nothing from this process), and wait for "gateway ready".
 * `nodeArgs` go before main: `['--import', 'tsx']` runs src/main.ts without a build.
 */
export async function startProcess(main: string, env: Record<string, string>, nodeArgs: readonly string[] = []): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [...nodeArgs, main], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: Array<{ pattern: RegExp; resolve: (line: string) => void }> = [];
  const onChunk = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
      lines.push(line);
      for (const w of waiters.filter((x) => x.pattern.test(line))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  child.stdout.on('data', onChunk);
  child.stderr.on('data', onChunk);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const killOnExit = () => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  void exited.then(() => process.off('exit', killOnExit));

  const waitFor = (pattern: RegExp, timeoutMs = 20_000) => {
    const seen = lines.find((l) => pattern.test(l));
    if (seen) return Promise.resolve(seen);
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms:\n${lines.slice(-20).join('\n')}`)), timeoutMs);
      waiters.push({ pattern, resolve: (line) => { clearTimeout(timer); resolve(line); } });
      void exited.then((code) => reject(new Error(`exited (${code}) before ${pattern}:\n${lines.slice(-20).join('\n')}`)));
    });
  };
  await waitFor(/"msg":"gateway ready"/);
  return { child, lines, exited, waitFor, kill: (signal = 'SIGTERM') => void child.kill(signal) };
}

/** The JSON log lines of a process, parsed. */
export const logEntries = (p: GatewayProcess): Array<Record<string, unknown>> =>
  p.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
