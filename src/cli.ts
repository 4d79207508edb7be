import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config.js';
import { createAdminToken } from './store/admin-tokens.js';
import { recordAudit } from './store/audit.js';
import type { Db } from './store/db.js';
import { openDb } from './store/open-db.js';
import { LockedError } from './store/pid-lock.js';
import { redisNotices } from './store/registry-notices.js';
import { listRegistrations } from './store/registrations.js';
import { loadSeedFile, SeedError } from './store/registry.js';
import type { SchoolReg } from './store/seed-schema.js';
import { importSeed } from './store/seed-import.js';

// The operator's first steps, on the same configuration as the gateway
// (DATABASE_URL or DATA_DIR): `npm run admin -- <command>` or `node dist/cli.js <command>`.

const USAGE = `usage:
  operator-token create [--label TEXT] [--days N]   create an operator token (printed once)
  seed import FILE                                   import a seed file (idempotent)
  schools list                                       list the registered schools
`;

const DAY_MS = 86_400_000;

type Command = (db: Db, args: string[], out: (line: string) => void) => Promise<void>;

const commands: Record<string, Command> = {
  'operator-token create': async (db, args, out) => {
    const { values } = parseArgs({ args, options: { label: { type: 'string', default: 'cli' }, days: { type: 'string', default: '90' } } });
    const days = Number(values.days);
    if (!Number.isInteger(days) || days < 1 || days > 366) throw new UsageError('--days must be a whole number from 1 to 366');
    const { token, secret } = await db.transaction(async (tx) => {
      const created = await createAdminToken(tx, { school: null, label: values.label, expiresAt: new Date(Date.now() + days * DAY_MS) });
      await recordAudit(tx, { actor: 'cli', school: null, action: 'token.create', target: `token:${created.token.id}`, before: null, after: created.token });
      return created;
    });
    out(`operator token ${token.id} (expires ${token.expiresAt}); shown only now:`);
    out(secret);
  },
  'seed import': async (db, args, out) => {
    const { positionals } = parseArgs({ args, allowPositionals: true });
    if (positionals.length !== 1) throw new UsageError('seed import takes one FILE');
    const { changes } = await importSeed(db, await loadSeedFile(positionals[0]!), 'cli');
    out(`${changes} change(s) imported`);
    const redisUrl = process.env.REDIS_URL;
    if (changes && redisUrl) {
      // Running gateways reload now rather than at their next periodic refresh.
      const notices = redisNotices(redisUrl, () => undefined, () => undefined);
      await notices.publish();
      await notices.close();
    }
  },
  'schools list': async (db, _args, out) => {
    for (let offset = 0; ; offset += 200) {
      const page = await listRegistrations<SchoolReg>(db, 'school', { limit: 200, offset });
      for (const s of page.items) out(`${s.id}\t${s.doc.name}\t${s.doc.issuer}`);
      if (offset + 200 >= page.total) break;
    }
  },
};

class UsageError extends Error {}

export async function runCli(argv: string[], env: NodeJS.ProcessEnv, out: (line: string) => void, err: (line: string) => void): Promise<number> {
  const name = argv.slice(0, 2).join(' ');
  const command = commands[name];
  if (!command) {
    err(USAGE);
    return 2;
  }
  let db: Db | undefined;
  try {
    db = await openDb(loadConfig(env));
    await command(db, argv.slice(2), out);
    return 0;
  } catch (e) {
    if (e instanceof ConfigError || e instanceof SeedError || e instanceof UsageError || e instanceof LockedError) {
      err(e.message);
      return e instanceof UsageError ? 2 : 1;
    }
    throw e;
  } finally {
    await db?.close();
  }
}

const write = (stream: NodeJS.WriteStream) => (line: string) => stream.write(`${line}\n`);
process.exitCode = await runCli(process.argv.slice(2), process.env, write(process.stdout), write(process.stderr));
