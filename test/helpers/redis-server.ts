import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from './net.js';

/** A private redis-server on a loopback port that a test may stop and start again. */
export class DisposableRedis {
  private process: ChildProcess | undefined;
  private constructor(readonly port: number, private readonly extraArgs: string[]) {}

  /** `extraArgs` go to redis-server as given (e.g. the eviction policy production uses). */
  static async start(extraArgs: string[] = []): Promise<DisposableRedis> {
    const redis = new DisposableRedis(await freePort(), extraArgs);
    await redis.up();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async up(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...this.extraArgs], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.process = child;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('redis-server did not start within 10 s')), 10_000);
      child.stdout.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}`));
      });
    });
  }

  async down(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
    this.process = undefined;
  }
}

