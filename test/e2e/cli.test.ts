import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { adminClient } from '../helpers/admin.js';
import { runCli } from '../helpers/cli.js';
import { makeWorld, PUPIL, TAAL_CB } from '../helpers/fixture.js';
import { TestPublisher } from '../helpers/publisher.js';
import { codeForm, expectTokenError, expectTokens, issueCode, postToken } from '../helpers/token-userinfo-requests.js';
import { GatewayProcess } from '../helpers/gateway-process.js';
import { EMBEDDED_ENV } from '../helpers/env.js';

// The operator's first steps with the CLI (README), on the embedded database:
// an operator token, a seed import, the school list; then the gateway accepts the token.

const cli = (env: Record<string, string>, ...args: string[]) => runCli(args, env);

describe('admin CLI', () => {
  it('creates an operator token, imports a seed idempotently, lists schools, and the gateway accepts the token', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pgw-cli-'));
    const env = { ...EMBEDDED_ENV, DATA_DIR: join(dir, 'data') };
    const world = await makeWorld();
    await writeFile(join(dir, 'seed.json'), JSON.stringify(world.seed));

    const token = await cli(env, 'operator-token', 'create', '--label', 'first steps');
    expect(token.code).toBe(0);
    const secret = token.out.trim().split('\n').at(-1)!;
    expect(secret).toMatch(/^pgwa_[A-Za-z0-9_-]{43}$/);

    expect(await cli(env, 'seed', 'import', join(dir, 'seed.json'))).toMatchObject({ code: 0, out: '11 change(s) imported\n' });
    expect(await cli(env, 'seed', 'import', join(dir, 'seed.json'))).toMatchObject({ code: 0, out: '0 change(s) imported\n' });
    const listed = await cli(env, 'schools', 'list');
    expect(listed.out.split('\n').filter(Boolean).map((l) => l.split('\t')[0])).toEqual(['12AB', '34CD01']);

    await writeFile(join(dir, 'bad.json'), JSON.stringify({ schools: [{ id: 'bad' }] }));
    const bad = await cli(env, 'seed', 'import', join(dir, 'bad.json'));
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('schools.0.id');
    expect((await cli(env, 'nonsense')).code).toBe(2);

    const gateway = await GatewayProcess.start({ ...env, PSEUDONYM_SCRYPT_N: '1024' });
    try {
      const schools = await adminClient(gateway.url, secret).get('/schools');
      expect(schools.status).toBe(200);
      expect(schools.body.total).toBe(2);
      const audit = await adminClient(gateway.url, secret).get('/audit-events?limit=200');
      expect(audit.body.items.filter((e: { actor: string }) => e.actor === 'cli')).toHaveLength(12);
      // The embedded database serves one process: the CLI refuses to open it under a running gateway.
      const locked = await cli(env, 'schools', 'list');
      expect(locked.code).toBe(1);
      expect(locked.err).toMatch(/embedded database .* is in use by process \d+/);
    } finally {
      await gateway.stop();
    }
  }, 180_000);

  it('generates client secrets: a seed asking for one gets it once at import and keeps it; client-secret generate replaces it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pgw-cli-'));
    const env = { ...EMBEDDED_ENV, DATA_DIR: join(dir, 'data') };
    const world = await makeWorld();
    const seed = { ...world.seed, clients: world.seed.clients.map((c) => ((c as { clientId: string }).clientId === 'taalapp' ? { ...c, clientSecret: 'generate' } : c)) };
    await writeFile(join(dir, 'seed.json'), JSON.stringify(seed));
    const secretIn = (out: string) => /^client taalapp: new secret \(shown only now\): (pgws_[A-Za-z0-9_-]{43})$/m.exec(out)?.[1];

    const first = await cli(env, 'seed', 'import', join(dir, 'seed.json'));
    expect(first.code).toBe(0);
    const imported = secretIn(first.out);
    expect(imported).toBeDefined();
    // Importing again keeps the secret: nothing changes, nothing is shown.
    expect(await cli(env, 'seed', 'import', join(dir, 'seed.json'))).toMatchObject({ code: 0, out: '0 change(s) imported\n' });

    const rotated = await cli(env, 'client-secret', 'generate', 'taalapp');
    expect(rotated.code).toBe(0);
    const secret = secretIn(rotated.out)!;
    expect(secret).toBeDefined();
    expect(secret).not.toBe(imported);
    expect(await cli(env, 'seed', 'import', join(dir, 'seed.json'))).toMatchObject({ code: 0, out: '0 change(s) imported\n' });
    const keyClient = await cli(env, 'client-secret', 'generate', 'rekenapp');
    expect(keyClient.code).toBe(1);
    expect(keyClient.err).toContain('private_key_jwt');

    const gateway = await GatewayProcess.start({ ...env, PSEUDONYM_SCRYPT_N: '1024' });
    try {
      const target = await gateway.asLoginTarget();
      const tokenWith = async (clientSecret: string) => {
        const taal = await TestPublisher.create(gateway.url, 'taalapp', TAAL_CB, { secret: clientSecret });
        const issued = await issueCode(target, world.regenboog, taal, PUPIL);
        return postToken(`${gateway.url}/token`, codeForm(issued), { authorization: `Basic ${Buffer.from(`taalapp:${clientSecret}`).toString('base64')}` });
      };
      expectTokens(await tokenWith(secret));
      expectTokenError(await tokenWith(imported!), 401, 'invalid_client');
      expect(gateway.output.join('')).not.toContain(secret);
    } finally {
      await gateway.stop();
    }
  }, 240_000);
});
