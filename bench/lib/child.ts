// Runs the server under test as a child process, so that it has a core of its
// own (the load generator keeps the other) and its memory can be read alone.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface ServerHandle {
  pid: number;
  /** Base URL the child announced; always a loopback address. */
  url: string;
  /** Current resident set size (VmRSS). */
  rssMb(): number;
  /** Peak resident set size since the child started (VmHWM). */
  peakRssMb(): number;
  /** CPU time (user + system) the child has used so far, in seconds. */
  cpuSeconds(): number;
  /** The end of what the child wrote to stdout (its log lines): what explains a failed request. */
  outputTail(): string;
  stop(): Promise<void>;
}

const STARTUP_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;
/** Output kept for the error message if the child fails: the end is what explains a crash. */
const TAIL_CHARS = 16_384;
const LOOPBACK = /^(?:127(?:\.\d{1,3}){3}|localhost|\[::1\])$/;

class Tail {
  #text = '';
  push(chunk: string): void {
    this.#text = (this.#text + chunk).slice(-TAIL_CHARS);
  }
  toString(): string {
    return this.#text;
  }
}

function assertLoopback(raw: string): string {
  if (!LOOPBACK.test(new URL(raw).hostname)) {
    throw new Error(`server announced ${raw}: benchmarks only target loopback addresses`);
  }
  return raw;
}

/**
 * Spawns `command` with `env` added to this process's environment and waits
 * for it to print `LISTENING <url>` on stdout. All later output is drained into
 * a bounded buffer and shown only if the child fails. `command` must run the
 * server in the spawned process itself (`node …`, not `npx …`), or the memory
 * figures are those of a wrapper.
 */
export async function startServer(
  command: string[],
  env: Record<string, string>,
  /** A whole stdout line that announces readiness; group 1 is the base URL. */
  readyLine: RegExp = /^LISTENING (\S+)\r?\n/m,
): Promise<ServerHandle> {
  const [file, ...args] = command;
  if (file === undefined) throw new Error('startServer: empty command');
  const child = spawn(file, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout = new Tail();
  const stderr = new Tail();
  const describe = (what: string): string =>
    `${command.join(' ')}: ${what}\n--- stderr ---\n${stderr.toString()}\n--- stdout ---\n${stdout.toString()}`;
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => stderr.push(chunk));

  let state: 'starting' | 'running' | 'stopping' = 'starting';
  let startupFailed: (message: string) => void = () => undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      const how = `(code ${code}, signal ${signal})`;
      if (state === 'starting') startupFailed(`exited before listening ${how}`);
      else if (state === 'running') console.error(describe(`exited unexpectedly ${how}`));
      resolve();
    });
  });
  // Never leave an orphan server behind if the parent dies without stop().
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const url = await new Promise<string>((resolve, reject) => {
    let pending = '';
    const timer = setTimeout(() => startupFailed(`no LISTENING line within ${STARTUP_TIMEOUT_MS} ms`), STARTUP_TIMEOUT_MS);
    startupFailed = (message) => {
      clearTimeout(timer);
      state = 'stopping';
      process.off('exit', killOnExit);
      child.kill('SIGKILL');
      reject(new Error(describe(message)));
    };
    child.once('error', (err) => startupFailed(`could not start: ${err.message}`));
    const onData = (chunk: string): void => {
      stdout.push(chunk);
      // Only whole lines count: a chunk may end in the middle of the URL.
      pending += chunk;
      const match = readyLine.exec(pending);
      if (!match) {
        pending = pending.slice(pending.lastIndexOf('\n') + 1);
        return;
      }
      child.stdout.off('data', onData);
      child.stdout.on('data', (rest: string) => stdout.push(rest));
      clearTimeout(timer);
      try {
        resolve(assertLoopback(match[1]!));
        state = 'running';
      } catch (err) {
        startupFailed((err as Error).message);
      }
    };
    child.stdout.on('data', onData);
  });

  const pid = child.pid!;
  // /proc/<pid>/status reports sizes in kB.
  const readStatusMb = (field: 'VmRSS' | 'VmHWM'): number => {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
    if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
    return Number(match[1]) / 1024;
  };

  return {
    pid,
    url,
    rssMb: () => readStatusMb('VmRSS'),
    outputTail: () => stdout.toString(),
    peakRssMb: () => readStatusMb('VmHWM'),
    // /proc/<pid>/stat fields 14 and 15 (after the parenthesised name): utime and stime in clock ticks (100 per second on Linux).
    cpuSeconds: () => {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return (Number(fields[11]) + Number(fields[12])) / 100;
    },
    async stop() {
      state = 'stopping';
      process.off('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}
