// Summarises a V8 .cpuprofile (from BENCH_CPU_PROF): self time by function and
// by file or package, heaviest first.
//   npx tsx bench/profile-summary.ts /tmp/prof/CPU.*.cpuprofile [top=40]
import { readFileSync } from 'node:fs';

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: Node[]; samples: number[]; timeDeltas: number[] }

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-summary <file.cpuprofile> [top]');
const top = Number(topArg ?? 40);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

const where = (url: string): string => {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const own = /\/(dist|src)\/(.*)$/.exec(url);
  if (own) return own[2]!;
  return url === '' ? '(native/idle)' : url.replace(/^node:/, 'node:');
};
const byFunction = new Map<string, number>();
const byFile = new Map<string, number>();
let total = 0;
for (const [id, us] of self) {
  const { callFrame } = byId.get(id)!;
  const fn = `${callFrame.functionName || '(anonymous)'} ${where(callFrame.url)}:${callFrame.lineNumber + 1}`;
  byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
  byFile.set(where(callFrame.url), (byFile.get(where(callFrame.url)) ?? 0) + us);
  total += us;
}
const print = (title: string, m: Map<string, number>): void => {
  console.log(`\n${title} (self time, % of ${(total / 1e6).toFixed(1)} s sampled)`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`);
};
print('by file or package', byFile);
print('by function', byFunction);

// Inclusive time: each sample counts once for every distinct function on its stack.
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const inclusive = new Map<string, number>();
const nameOf = (id: number): string => {
  const { callFrame } = byId.get(id)!;
  return `${callFrame.functionName || '(anonymous)'} ${where(callFrame.url)}:${callFrame.lineNumber + 1}`;
};
for (const [id, us] of self) {
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) seen.add(nameOf(at));
  for (const name of seen) inclusive.set(name, (inclusive.get(name) ?? 0) + us);
}
print('inclusive, by function', inclusive);
