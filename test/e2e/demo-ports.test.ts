import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EMBEDDED_ENV } from '../helpers/env.js';

// `npm run demo` where another process (a first demo, say) holds a port: one
// line naming the port and how to move the demo, and nothing started.

function runDemo(env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'demo/run.ts'], { env: { ...process.env, ...EMBEDDED_ENV, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    // A safety net: a demo that started after all would run until stopped.
    const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

describe('the demo on a taken port', () => {
  it('stops with one line naming the port, its part of the demo and DEMO_PORT', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const run = await runDemo({ DEMO_PORT: String(port), DATA_DIR: await mkdtemp(join(tmpdir(), 'pgw-demo-port-')) });
      expect(run.code).toBe(1);
      expect(run.err).toBe(`demo: port ${port} (gateway) on 127.0.0.1 is already in use, perhaps by another demo; start with DEMO_PORT=<first free port> (the demo takes 6 ports from it)\n`);
      expect(run.out).not.toContain('Demo ready');
    } finally {
      taken.close();
    }
  }, 60_000);
});
