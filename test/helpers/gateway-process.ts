import { spawn, type ChildProcess } from 'node:child_process';
import type { TestGateway } from './gateway.js';
import { freePort } from './net.js';

/** `npm start`'s entry point as a child process on a loopback port, as an operator runs it. */
export class GatewayProcess {
  private constructor(
    readonly url: string,
    private readonly child: ChildProcess,
    readonly output: string[],
  ) {}

  /** `env.PORT`, when given, is the port to listen on; otherwise a free one. */
  static async start(env: Record<string, string>): Promise<GatewayProcess> {
    const port = env.PORT ? Number(env.PORT) : await freePort();
    const url = `http://127.0.0.1:${port}`;
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, LOG_LEVEL: 'info', PORT: String(port), ISSUER: url, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    await new Promise<void>((resolve, reject) => {
      // Generous: tsx compiles the sources first, slowly on a machine shared with other work.
      const timer = setTimeout(() => reject(new Error(`gateway did not start within 60 s:\n${output.join('')}`)), 60_000);
      const onData = (chunk: Buffer) => {
        output.push(chunk.toString());
        if (output.join('').includes('"msg":"gateway ready"')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`gateway exited with ${code}:\n${output.join('')}`));
      });
    });
    return new GatewayProcess(url, child, output);
  }

  /** The exit code once the process has ended (null for a signal), undefined while it runs. */
  get exitCode(): number | null | undefined {
    if (this.child.exitCode !== null) return this.child.exitCode;
    return this.child.signalCode === null ? undefined : null;
  }

  /** What the login helpers need of a gateway: its URL and its published signing keys. */
  async asLoginTarget(): Promise<TestGateway> {
    const jwks = (await (await fetch(`${this.url}/jwks.json`)).json()) as { keys: object[] };
    return { url: this.url, signing: { jwks } } as unknown as TestGateway;
  }

  /** SIGKILL: the process ends at once, mid-request, with nothing flushed or closed. */
  async kill(): Promise<void> {
    if (this.exitCode !== undefined) return;
    await new Promise<void>((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill('SIGKILL');
    });
  }

  async stop(): Promise<void> {
    if (this.exitCode !== undefined) return;
    await new Promise<void>((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill('SIGTERM');
    });
  }
}
