import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { redisTarget } from '../store/open-kv.js';
import { createAdminToken } from '../store/admin-tokens.js';
import { recordAudit } from '../store/audit.js';
import type { Db } from '../store/db.js';
import { openDb } from '../store/open-db.js';
import { LockedError } from '../store/pid-lock.js';
import { openRegistryNotices } from '../store/registry-notices.js';
import { getRegistration, listRegistrations, putRegistration } from '../store/registrations.js';
import { loadSeedFile, SeedError, type StoredClient } from '../store/seed-file.js';
import type { SchoolReg } from '../store/seed-schema.js';
import { describeClient, importSeed, toStoredClient } from '../store/seed-import.js';
import { newClientSecret } from '../store/client-secrets.js';
import { AdminCommandError, clientSecretThroughApi, listSchoolsThroughApi, operatorTokenThroughApi, type ApiTarget } from './admin-api.js';

// The operator's first steps, on the database the gateway uses (DATABASE_URL,
// or PGlite in DATA_DIR): `operator-token create`, `seed import FILE`, `schools list`,
// `client-secret generate CLIENT_ID`. Given an admin API (src/cli/admin-api.ts),
// all but `seed import` go through it instead.

export { AdminCommandError };

const DAY_MS = 86_400_000;

type Out = (line: string) => void;

async function withDb(run: (db: Db) => Promise<void>): Promise<number> {
  let db: Db | undefined;
  try {
    db = await openDb(loadConfig());
    await run(db);
    return 0;
  } catch (err) {
    if (err instanceof SeedError || err instanceof LockedError) throw new AdminCommandError(err.message);
    throw err;
  } finally {
    await db?.close();
  }
}

export async function runOperatorTokenCommand(args: string[], out: Out, api?: ApiTarget): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { label: { type: 'string', default: 'cli' }, days: { type: 'string', default: '90' } } });
  if (positionals.join(' ') !== 'create') throw new AdminCommandError('usage: operator-token create [--label TEXT] [--days N]');
  const days = Number(values.days);
  if (!Number.isInteger(days) || days < 1 || days > 366) throw new AdminCommandError('--days must be a whole number from 1 to 366');
  if (api) return operatorTokenThroughApi(api, values.label, days, out);
  return withDb(async (db) => {
    const { token, secret } = await db.transaction(async (tx) => {
      const created = await createAdminToken(tx, { school: null, label: values.label, expiresAt: new Date(Date.now() + days * DAY_MS) });
      await recordAudit(tx, { actor: 'cli', school: null, action: 'token.create', target: `token:${created.token.id}`, before: null, after: created.token });
      return created;
    });
    out(`operator token ${token.id} (expires ${token.expiresAt}); shown only now:`);
    out(secret);
  });
}

export async function runSeedCommand(args: string[], out: Out, api?: ApiTarget): Promise<number> {
  const [verb, file, ...rest] = args;
  if (verb !== 'import' || !file || rest.length) throw new AdminCommandError('usage: seed import FILE');
  if (api) throw new AdminCommandError('seed import writes to the database: run it without --api (with PGlite, while the gateway is stopped), or register through the admin API');
  return withDb(async (db) => {
    const { changes, generated } = await importSeed(db, await loadSeedFile(file), 'cli');
    for (const { clientId, secret } of generated) showSecret(out, clientId, secret);
    out(`${changes} change(s) imported`);
    if (changes) await notifyGateways();
  });
}

/** `client-secret generate CLIENT_ID`: a fresh secret for a client_secret_basic client, shown once; the old one stops working. */
export async function runClientSecretCommand(args: string[], out: Out, api?: ApiTarget): Promise<number> {
  const [verb, clientId, ...rest] = args;
  if (verb !== 'generate' || !clientId || rest.length) throw new AdminCommandError('usage: client-secret generate CLIENT_ID');
  if (api) return clientSecretThroughApi(api, clientId, out);
  return withDb(async (db) => {
    const secret = newClientSecret();
    await db.transaction(async (tx) => {
      const current = await getRegistration<StoredClient>(tx, 'client', clientId);
      if (!current) throw new AdminCommandError(`no client ${clientId}`);
      if (!current.doc.secretHash) throw new AdminCommandError(`client ${clientId} authenticates with private_key_jwt (jwks or jwksUri): it has no secret`);
      const doc = toStoredClient({ ...current.doc, clientSecret: secret });
      await putRegistration(tx, 'client', clientId, doc, doc.supplier);
      await recordAudit(tx, { actor: 'cli', school: null, action: 'client.secret', target: `client:${clientId}`, before: describeClient(current.doc), after: describeClient(doc) });
    });
    showSecret(out, clientId, secret);
    await notifyGateways();
  });
}

const showSecret = (out: Out, clientId: string, secret: string) => out(`client ${clientId}: new secret (shown only now): ${secret}`);

/** Running gateways reload now rather than at their next periodic refresh. */
async function notifyGateways(): Promise<void> {
  const config = loadConfig();
  if (!redisTarget(config)) return;
  const notices = openRegistryNotices(config, () => undefined, () => undefined);
  await notices.publish();
  await notices.close();
}

export async function runSchoolsCommand(args: string[], out: Out, api?: ApiTarget): Promise<number> {
  if (args.join(' ') !== 'list') throw new AdminCommandError('usage: schools list');
  if (api) return listSchoolsThroughApi(api, out);
  return withDb(async (db) => {
    for (let offset = 0; ; offset += 200) {
      const page = await listRegistrations<SchoolReg>(db, 'school', { limit: 200, offset });
      for (const s of page.items) out(`${s.id}\t${s.doc.name}\t${s.doc.issuer}`);
      if (offset + 200 >= page.total) break;
    }
  });
}
