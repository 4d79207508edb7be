// npm run bench (after the login bench), or npm run bench:resolution: a
// 10,000-pupil pseudonym-resolution job through the admin API, against the
// production build with Redis and PostgreSQL, at the production scrypt cost.
//   cold:  pupils never seen, every root derived (scrypt, RESOLUTION_JOB_CONCURRENCY at a time);
//   warm:  the same roster again in the same process (roots in its memory);
//   after restart: the same roster in a fresh process (roots from Redis, as pre-warmed).
// Figures only, no assertions.
//   BENCH_PUPILS=10000   REDIS_URL, DATABASE_URL (defaults: the local Redis and PostgreSQL)
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildProduction, REDIS_URL, requireRedis, startBenchGateway, type BenchGateway } from './lib/gateway.js';
import { freshPgDatabase } from '../support/pg.js';

const PUPILS = Number(process.env.BENCH_PUPILS ?? 10_000);
const TOKEN = `bench-operator-${process.pid}-0123456789abcdefghijklmnopqrstuvwxyz`;
const JOBS = '/admin/v1/schools/12AB/pseudonym-jobs';
const round1 = (x: number) => Math.round(x * 10) / 10;

interface Job { id: string; status: 'running' | 'done' | 'failed'; done: number }

async function admin<T>(gw: BenchGateway, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${gw.world.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as T };
}

/** One job from POST to done: its wall time, and the result's download time. */
async function runJob(gw: BenchGateway, roster: string[]) {
  const started = performance.now();
  const created = await admin<Job>(gw, 'POST', JOBS, { supplier: 'bench-supplier', studentKeys: roster });
  if (created.status !== 202) throw new Error(`POST ${JOBS}: ${created.status} ${JSON.stringify(created.body)}`);
  for (;;) {
    const job = await admin<Job>(gw, 'GET', `${JOBS}/${created.body.id}`);
    if (job.body.status === 'failed') throw new Error(`job failed: ${JSON.stringify(job.body)}`);
    if (job.body.status === 'done') break;
    await sleep(job.body.done < roster.length / 2 ? 500 : 50);
  }
  const seconds = (performance.now() - started) / 1000;
  const fetched = performance.now();
  const result = await admin<{ students?: unknown[] }>(gw, 'GET', `${JOBS}/${created.body.id}/result`);
  if (result.body.students?.length !== roster.length) throw new Error(`result holds ${result.body.students?.length ?? 'no'} pupils, not ${roster.length}`);
  return { seconds, perSecond: roster.length / seconds, resultMs: performance.now() - fetched };
}

async function main() {
  await requireRedis();
  buildProduction();
  const dir = await mkdtemp(join(tmpdir(), 'pgw-bench-resolution-'));
  const database = await freshPgDatabase();
  const env = { OPERATOR_BOOTSTRAP_TOKEN: TOKEN };
  // Keys never seen before (Redis keeps roots between runs): the first job is cold.
  const roster = Array.from({ length: PUPILS }, (_, i) => `bench-${process.pid}-${Date.now()}-${i}`);
  const began = performance.now();
  let gw = await startBenchGateway(dir, database.url, { env });
  try {
    const cold = await runJob(gw, roster);
    const warm = await runJob(gw, roster);
    const peakRss = gw.server.peakRssMb();
    await gw.server.stop();
    gw = await startBenchGateway(dir, database.url, { env });
    const restarted = await runJob(gw, roster);
    const total = (performance.now() - began) / 1000;
    const row = (run: string, r: Awaited<ReturnType<typeof runJob>>) => ({ run, 'pupils/s': Math.round(r.perSecond), 'job s': round1(r.seconds), 'result download ms': Math.round(r.resultMs) });
    console.log(`Pseudonym resolution job, ${PUPILS} pupils, one supplier, production scrypt cost (N=2^15, r=8, p=1), RESOLUTION_JOB_CONCURRENCY default, Redis at ${REDIS_URL}`);
    console.table([
      row('cold (every root derived)', cold),
      row('warm (same process, roots in memory)', warm),
      row('after restart (roots from Redis: pre-warmed)', restarted),
    ]);
    console.log(`gateway peak RSS during cold and warm: ${round1(peakRss)} MB; total wall time (three jobs, two starts): ${round1(total)} s`);
  } finally {
    await gw.server.stop();
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`benchmark failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
