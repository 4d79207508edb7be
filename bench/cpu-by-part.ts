// Where a warm login's CPU goes, gateway beside the floor (bench/floor/server.ts):
// both run with a V8 CPU profile, take the same closed-loop load in turn, and
// the samples of each measured window are put in buckets (the server's own
// code, the HTTP server, the framework, crypto, the Redis client, logging,
// metrics, validation, garbage collection). Native frames (a socket write, a
// hash) count in the bucket of the JavaScript that called them. Printed per
// login in microseconds, side by side, with what the gateway spends above the
// floor in each bucket.
//   npx tsx bench/cpu-by-part.ts     BENCH_SECONDS=15 (per window)   ROUNDS=2
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFloor } from './lib/floor.js';
import { buildProduction, openBenchGateway, requireRedis } from './lib/gateway.js';
import { runLoad } from './lib/load.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const ROUNDS = Number(process.env.ROUNDS ?? 2);
const PUPILS = 100;

interface Node { id: number; callFrame: { functionName: string; url: string }; children?: number[] }
interface Profile { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

const BUCKETS: [string, RegExp][] = [
  ['logging', /node_modules\/(pino|@pinojs|sonic-boom|fast-redact|thread-stream|on-exit-leak-free|quick-format-unescaped|fast-safe-stringify)\/|\/logger\.js$/],
  ['metrics', /node_modules\/(prom-client|tdigest|bintrees)\/|\/ops\/metrics\.js$/],
  ['framework (fastify and plugins)', /node_modules\/(fastify|@fastify|find-my-way|avvio|fast-querystring|fast-json-stringify|secure-json-parse|toad-cache|light-my-request|abstract-logging|process-warning|rfdc|fast-decode-uri-component|fast-uri|json-schema-ref-resolver|ret|safe-regex2|cookie)\//],
  ['validation (zod)', /node_modules\/zod\//],
  ['JOSE library', /node_modules\/jose\//],
  ['Redis client', /node_modules\/(ioredis|@ioredis|redis-parser|denque|cluster-key-slot|redis-errors|standard-as-callback|lodash\.)|\/store\/redis-kv\.js$/],
  ['crypto (node)', /^node:internal\/crypto\//],
  ['HTTP server and sockets (node)', /^node:(_http|net|internal\/(stream|streams|http|child_process|dns|url)|http|stream|events|buffer|internal\/buffer|querystring|internal\/querystring)/],
  ['the server\'s own code', /\/(dist|src)\/|\/bench\/floor\/|node_modules\/lru-cache\//],
];

function bucketOf(url: string): string | undefined {
  for (const [name, pattern] of BUCKETS) if (pattern.test(url)) return name;
  return url === '' ? undefined : 'other (node internals, timers, promises)';
}

const OWN = "the server's own code";
/** The file a frame of the server's own code is in (its bucket broken down); '' for any other frame. */
const ownFile = (url: string): string => (bucketOf(url) === OWN ? (/\/(?:dist|src|bench)\/(.*)$/.exec(url)?.[1] ?? /node_modules\/([^/]+)/.exec(url)?.[1] ?? url) : '');

/**
 * Self time per bucket (µs) over the samples between `from` and `to` (µs since the profile's start), and, as
 * `own: <file>`, the server's own code by file.
 */
function buckets(profile: Profile, from: number, to: number): Map<string, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const bucketCache = new Map<number, [string, string]>();
  const bucketFor = (id: number): [string, string] => {
    const cached = bucketCache.get(id);
    if (cached) return cached;
    const { functionName, url } = byId.get(id)!.callFrame;
    const own: string | undefined = functionName === '(garbage collector)' ? 'garbage collection' : functionName === '(idle)' ? 'idle' : bucketOf(url);
    const bucket: [string, string] = own === undefined
      ? (parent.has(id) ? bucketFor(parent.get(id)!) : ['other (node internals, timers, promises)', ''])
      : [own, ownFile(url)];
    bucketCache.set(id, bucket);
    return bucket;
  };
  const out = new Map<string, number>();
  let at = 0;
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i] ?? 0;
    if (at < from || at > to) return;
    const [b, file] = bucketFor(id);
    out.set(b, (out.get(b) ?? 0) + (profile.timeDeltas[i] ?? 0));
    if (file) out.set(`own: ${file}`, (out.get(`own: ${file}`) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  return out;
}

async function profiled(dir: string): Promise<Profile> {
  const [file] = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no profile in ${dir}`);
  return JSON.parse(await readFile(join(dir, file), 'utf8')) as Profile;
}

/** One server under closed-loop load for SECONDS, profiled: per-login µs by bucket within the window. */
async function measure(open: () => Promise<{ login: () => Promise<void>; close: () => Promise<void> }>, dir: string) {
  process.env.BENCH_CPU_PROF = dir;
  const handle = await open();
  delete process.env.BENCH_CPU_PROF;
  await runLoad(handle.login, { concurrency: 4, durationMs: 600_000, maxRequests: PUPILS });
  await runLoad(handle.login, { concurrency: 16, durationMs: 2000 });
  const t0 = performance.now();
  const result = await runLoad(handle.login, { concurrency: 16, durationMs: SECONDS * 1000 });
  const t1 = performance.now();
  await handle.close();
  const t2 = performance.now();
  const profile = await profiled(dir);
  const end = profile.endTime - profile.startTime;
  const window = buckets(profile, end - (t2 - t0) * 1000, end - (t2 - t1) * 1000);
  return { logins: result.count, perLogin: new Map([...window].map(([k, us]) => [k, us / result.count])) };
}

await requireRedis();
buildProduction();
const rounds: { gateway: Map<string, number>; floor: Map<string, number> }[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const root = await mkdtemp(join(tmpdir(), 'pgw-cpu-'));
  try {
    const gateway = await measure(() => openBenchGateway(PUPILS), join(root, 'gateway'));
    const floor = await measure(() => openFloor(PUPILS), join(root, 'floor'));
    rounds.push({ gateway: gateway.perLogin, floor: floor.perLogin });
    console.log(`round ${round + 1}: ${gateway.logins} gateway logins, ${floor.logins} floor logins in ${SECONDS} s each`);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const names = [...new Set(rounds.flatMap((r) => [...r.gateway.keys(), ...r.floor.keys()]))].filter((n) => n !== 'idle' && !n.startsWith('own: '));
const rows = names.map((name) => {
  const g = median(rounds.map((r) => r.gateway.get(name) ?? 0));
  const f = median(rounds.map((r) => r.floor.get(name) ?? 0));
  return { part: name, 'gateway µs/login': Math.round(g), 'floor µs/login': Math.round(f), 'gateway above floor µs': Math.round(g - f) };
}).sort((a, b) => b['gateway above floor µs'] - a['gateway above floor µs']);
const total = (key: 'gateway µs/login' | 'floor µs/login') => rows.reduce((sum, r) => sum + r[key], 0);
console.log(`CPU per warm login by part (median of ${ROUNDS} rounds, busy samples only; the machine is shared: read the parts, not the last digit)`);
console.table([...rows, { part: 'total', 'gateway µs/login': total('gateway µs/login'), 'floor µs/login': total('floor µs/login'), 'gateway above floor µs': total('gateway µs/login') - total('floor µs/login') }]);

const files = [...new Set(rounds.flatMap((r) => [...r.gateway.keys()]))].filter((n) => n.startsWith('own: '));
const byFile = files.map((name) => ({ file: name.slice(5), 'gateway µs/login': Math.round(median(rounds.map((r) => r.gateway.get(name) ?? 0))) }))
  .sort((a, b) => b['gateway µs/login'] - a['gateway µs/login']).slice(0, 15);
console.log("the gateway's own code by file (self time with the native calls it makes), heaviest 15");
console.table(byFile);
