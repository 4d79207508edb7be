import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The gateway's stdout logs are written in batches (src/logger.ts): a line
// waits at most LOG_FLUSH_MS while the process runs, and nothing is lost when
// it exits, however abruptly it calls process.exit. Checked in a real child
// process reading its real stdout.

const LOGGER = fileURLToPath(new URL('../../src/logger.ts', import.meta.url));
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pgw-log-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs `body` (with `log`, a logger on the default destination) in a child; calls onLine for each stdout line. */
async function runLogging(body: string, onLine: (line: string) => void = () => undefined): Promise<{ code: number | null; lines: string[] }> {
  const file = join(dir, `child-${Math.random().toString(36).slice(2)}.ts`);
  await writeFile(file, `import { createLogger } from ${JSON.stringify(LOGGER)};\nconst log = createLogger('info');\n${body}\n`);
  const child = spawn(process.execPath, ['--import', 'tsx', file], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  let rest = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop()!;
    for (const line of parts) {
      lines.push(line);
      onLine(line);
    }
  });
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  return { code, lines };
}

describe('buffered stdout logging', () => {
  it('writes a line within the flush interval while the process keeps running', async () => {
    let seenAt = 0;
    let loggedAt = 0;
    const run = await runLogging(
      // Log once the child is up, then stay alive for 3 s without logging again.
      `console.error('ready'); log.info({ at: Date.now() }, 'lonely line'); setTimeout(() => undefined, 3000);`,
      (line) => {
        if (line.includes('lonely line')) {
          seenAt = Date.now();
          loggedAt = (JSON.parse(line) as { at: number }).at;
        }
      },
    );
    expect(run.code).toBe(0);
    expect(seenAt).toBeGreaterThan(0);
    // Well before the child's exit (3 s later) would have flushed it.
    expect(seenAt - loggedAt).toBeLessThan(1500);
  }, 20_000);

  it('loses no line when the process exits at once, fatal error or not', async () => {
    const run = await runLogging(`for (let i = 0; i < 3000; i++) log.info({ i }, 'line'); log.fatal('bye'); process.exit(3);`);
    expect(run.code).toBe(3);
    const entries = run.lines.map((l) => JSON.parse(l) as { msg: string; i?: number });
    expect(entries.filter((e) => e.msg === 'line').map((e) => e.i)).toEqual(Array.from({ length: 3000 }, (_, i) => i));
    expect(entries.at(-1)?.msg).toBe('bye');
  }, 20_000);

  it('loses no line when an uncaught error ends the process', async () => {
    const run = await runLogging(`log.info('before'); setTimeout(() => { log.info('last words'); throw new Error('boom'); }, 20);`);
    expect(run.code).not.toBe(0);
    expect(run.lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['before', 'last words']);
  }, 20_000);
});
