import { setTimeout as sleep } from 'node:timers/promises';
import type { Queryable } from '../../src/store/db.js';
import type { AdminClient } from './admin.js';

export interface JobView {
  id: string;
  status: 'running' | 'done' | 'failed';
  total: number;
  done: number;
  [field: string]: unknown;
}

/** Polls a pseudonym job until it is no longer running; `onPoll` sees every state read. */
export async function waitForJob(client: Pick<AdminClient, 'get'>, path: string, onPoll: (job: JobView) => void = () => undefined, timeoutMs = 30_000): Promise<JobView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await client.get(path);
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${res.text}`);
    const job = res.body as JobView;
    onPoll(job);
    if (job.status !== 'running') return job;
    if (Date.now() > deadline) throw new Error(`job ${path} still running after ${timeoutMs} ms (${job.done}/${job.total})`);
    await sleep(25);
  }
}

/** The tables (of the public schema) with a row whose text contains `needle`. */
export async function keysFoundInTables(db: Queryable, needle: string): Promise<string[]> {
  const tables = await db.query<{ name: string }>(`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`);
  if (tables.length < 5) throw new Error(`expected the gateway's tables, found ${tables.map((t) => t.name).join(', ')}`);
  const found: string[] = [];
  for (const { name } of tables) {
    const rows = await db.query(`SELECT 1 FROM "${name}" AS t WHERE strpos(t::text, $1) > 0 LIMIT 1`, [needle]);
    if (rows.length) found.push(name);
  }
  return found;
}
