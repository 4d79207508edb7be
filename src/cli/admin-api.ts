import { setTimeout as sleep } from 'node:timers/promises';

// The admin CLI through a running gateway's admin API (docs/operations.md,
// "Admin CLI"): given `--api URL --token TOKEN` (or ADMIN_API_URL and
// ADMIN_TOKEN), the commands go to /admin/v1 instead of the database. So they
// work beside a gateway on the embedded database (PGlite serves one process),
// the demo's included, and a job such as warming roots runs in the gateway
// whose cache it fills.

/** A command's refusal, printed as one message (the CLI exits 1). */
export class AdminCommandError extends Error {}

type Out = (line: string) => void;

export interface ApiTarget {
  /** The gateway's base URL (its ISSUER), without /admin/v1. */
  readonly url: string;
  readonly token: string;
}

/** `--api URL` and `--token TOKEN` taken out of the arguments, else the environment; undefined: the database mode. */
export function apiTargetOf(args: string[], env: NodeJS.ProcessEnv = process.env): { target?: ApiTarget; rest: string[] } {
  const rest: string[] = [];
  let url = env.ADMIN_API_URL || undefined;
  let token = env.ADMIN_TOKEN || undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--api' || arg === '--token') {
      const value = args[++i];
      if (value === undefined) throw new AdminCommandError(`${arg} needs a value`);
      if (arg === '--api') url = value;
      else token = value;
    } else rest.push(arg);
  }
  if (url === undefined && token === undefined) return { rest };
  if (url === undefined || token === undefined) throw new AdminCommandError('the admin API needs both a URL and a token: --api URL --token TOKEN (or ADMIN_API_URL and ADMIN_TOKEN)');
  return { target: { url: url.replace(/\/+$/, ''), token }, rest };
}

/** One admin API call; a problem+json answer becomes the command's error, with its field details. */
export async function callApi<T>(target: ApiTarget, method: string, path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${target.url}/admin/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${target.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (err) {
    throw new AdminCommandError(`the admin API at ${target.url} is not reachable (${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message})`);
  }
  const text = await response.text();
  const parsed = text ? (JSON.parse(text) as unknown) : undefined;
  if (!response.ok) {
    const problem = parsed as { title?: string; errors?: { field: string; detail: string }[] } | undefined;
    const details = (problem?.errors ?? []).map((e) => `\n  - ${e.field}: ${e.detail}`).join('');
    throw new AdminCommandError(`${method} ${path}: ${response.status} ${problem?.title ?? response.statusText}${details}`);
  }
  return parsed as T;
}

const POLL_MS = 500;

/** `roots warm SCHOOL`: start the school's root warm-up job and wait for it, printing its progress. */
export async function warmRootsThroughApi(target: ApiTarget, args: string[], out: Out): Promise<number> {
  const [verb, school, ...rest] = args;
  if (verb !== 'warm' || !school || rest.length) throw new AdminCommandError('usage: roots warm SCHOOL');
  const base = `/schools/${encodeURIComponent(school)}/roster/warm-roots`;
  let job = await callApi<{ id: string; status: string; total: number; done: number; reason?: string }>(target, 'POST', base, {});
  out(`warming the roots of ${job.total} pupil(s) of ${school} (job ${job.id})`);
  while (job.status === 'running') {
    await sleep(POLL_MS);
    job = await callApi(target, 'GET', `${base}/${job.id}`);
  }
  if (job.status !== 'done') throw new AdminCommandError(`job ${job.id} ${job.status}${job.reason ? ` (${job.reason})` : ''} after ${job.done} of ${job.total}`);
  out(`${job.done} of ${job.total} root(s) warm`);
  return 0;
}

/** `operator-token create [--label TEXT] [--days N]` through the API. */
export async function operatorTokenThroughApi(target: ApiTarget, label: string, days: number, out: Out): Promise<number> {
  const created = await callApi<{ id: string; expiresAt: string; token: string }>(target, 'POST', '/operator-tokens', { label, expiresInDays: days });
  out(`operator token ${created.id} (expires ${created.expiresAt}); shown only now:`);
  out(created.token);
  return 0;
}

/** `schools list` through the API. */
export async function listSchoolsThroughApi(target: ApiTarget, out: Out): Promise<number> {
  for (let offset = 0; ; offset += 200) {
    const page = await callApi<{ items: { id: string; name: string; issuer?: string }[]; total: number }>(target, 'GET', `/schools?limit=200&offset=${offset}`);
    for (const s of page.items) out(`${s.id}\t${s.name}\t${s.issuer ?? ''}`);
    if (offset + 200 >= page.total) return 0;
  }
}

/** `client-secret generate CLIENT_ID` through the API: the client replaced with `"clientSecret": "generate"`. */
export async function clientSecretThroughApi(target: ApiTarget, clientId: string, out: Out): Promise<number> {
  const path = `/clients/${encodeURIComponent(clientId)}`;
  const { authMethod, ...client } = await callApi<Record<string, unknown> & { authMethod: string }>(target, 'GET', path);
  if (authMethod !== 'client_secret_basic') throw new AdminCommandError(`client ${clientId} authenticates with private_key_jwt (jwks or jwksUri): it has no secret`);
  const replaced = await callApi<{ clientSecret: string }>(target, 'PUT', path, { ...client, clientSecret: 'generate' });
  out(`client ${clientId}: new secret (shown only now): ${replaced.clientSecret}`);
  return 0;
}
