import { spawn } from 'node:child_process';
import { mkdtemp, readdir, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../helpers/net.js';
import { EMBEDDED_ENV } from '../helpers/env.js';

/** The longest one start of the gateway may take here before it is killed. */
const START_LIMIT_MS = 60_000;

// npm start's entry point, as an operator runs it: embedded defaults, keys
// created in DATA_DIR once, an invalid seed or config refused with every problem.

interface Run { code: number | null; out: string; err: string }

function runMain(env: Record<string, string>, stopWhen?: RegExp): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env: { ...process.env, LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      // One SIGTERM: a second one makes close-with-grace exit at once, with code 1.
      if (!child.killed && stopWhen?.test(out)) child.kill('SIGTERM');
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    // Generous: tsx compiles the sources first, and a shared CI machine can be slow to.
    const timer = setTimeout(() => child.kill('SIGKILL'), START_LIMIT_MS);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}


describe('start-up', () => {
  it('starts on embedded defaults, creates its keys once (mode 0600) and reuses them, and shuts down on SIGTERM', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pgw-start-'));
    const env = { ...EMBEDDED_ENV, DATA_DIR: join(dir, 'data'), PORT: String(await freePort()) };
    const first = await runMain(env, /"msg":"gateway ready"/);
    expect(first.out).toContain('"msg":"gateway ready"');
    expect(first.out).toContain('"msg":"shutting down"');
    // No registrations: the start says so, and how to add them.
    expect(first.out).toMatch(/"level":40,[^\n]*nobody can log in yet: add registrations with SEED_FILE/);
    expect(first.code).toBe(0);
    const files = (await readdir(env.DATA_DIR)).sort();
    // The embedded database (PGlite) lives beside the keys.
    expect(files).toEqual(['pglite', 'pseudonym-master.key', 'signing-keys.json', 'upstream-client-key.json']);
    for (const f of ['pseudonym-master.key', 'signing-keys.json', 'upstream-client-key.json']) expect((await stat(join(env.DATA_DIR, f))).mode & 0o777).toBe(0o600);
    expect((await stat(join(env.DATA_DIR, 'pglite'))).mode & 0o777).toBe(0o700);
    const jwksKid = /"kid":"([^"]+)"/;
    const read = async (f: string) => (await import('node:fs')).readFileSync(join(env.DATA_DIR, f), 'utf8');
    const before = await read('signing-keys.json');
    // The upstream client key (docs/upstream-oidc.md): providers hold its public half, so a restart keeps it.
    const upstreamKeyBefore = await read('upstream-client-key.json');
    const second = await runMain(env, /"msg":"gateway ready"/);
    expect(second.code).toBe(0);
    expect((await read('signing-keys.json')).match(jwksKid)?.[1]).toBe(before.match(jwksKid)?.[1]);
    expect(await read('upstream-client-key.json')).toBe(upstreamKeyBefore);
  }, 2 * START_LIMIT_MS + 10_000);

  it('refuses an invalid seed file at start, listing every problem as plain lines, format and references together', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pgw-seed-'));
    await writeFile(join(dir, 'seed.json'), JSON.stringify({
      schools: [{ id: 'bad', name: 'x', issuer: 'http://idp.example', loginUrl: 'https://idp.example/login', jwks: { keys: [] } }],
      suppliers: [{ id: 'Bad Supplier', name: 'x' }],
      licences: [{ school: 'bad', client: 'ghost', claims: [] }],
    }));
    const run = await runMain({ DATA_DIR: join(dir, 'data'), SEED_FILE: join(dir, 'seed.json'), PORT: String(await freePort()) });
    expect(run.code).toBe(1);
    // Printed as the configuration's problems are: a heading, then one problem a line; not a JSON log line.
    expect(run.err).toMatch(/^invalid seed file:\n( {2}- [^\n]+\n)+$/);
    for (const problem of ['schools.0.id', 'schools.0.issuer', 'suppliers.0.id', 'licences.0.client: unknown client "ghost"']) expect(run.err).toContain(problem);
    expect(run.out).not.toContain('gateway ready');
  }, START_LIMIT_MS + 10_000);

  it('names the taken port, and the variable that moves it, in one line', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const dir = await mkdtemp(join(tmpdir(), 'pgw-port-'));
      const run = await runMain({ ...EMBEDDED_ENV, DATA_DIR: join(dir, 'data'), PORT: String(port) });
      expect(run.code).toBe(1);
      expect(run.err).toBe(`gateway: cannot listen on 127.0.0.1:${port}: the port is already in use (another process listens there); set PORT to a free port\n`);
    } finally {
      taken.close();
    }
  }, START_LIMIT_MS + 10_000);

  it('refuses an invalid configuration, listing every problem, before touching DATA_DIR', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pgw-cfg-'));
    const run = await runMain({ DATA_DIR: join(dir, 'data'), PORT: 'eighty', NODE_ENV: 'production', ISSUER: 'http://gw.example' });
    expect(run.code).toBe(1);
    expect(run.err).toMatch(/^invalid configuration:\n( {2}- [^\n]+\n)+$/);
    for (const name of ['PORT', 'ISSUER', 'PSEUDONYM_MASTER_KEY']) expect(run.err).toContain(name);
    await expect(readdir(join(dir, 'data'))).rejects.toThrow(/ENOENT/);
  }, START_LIMIT_MS + 10_000);
});
