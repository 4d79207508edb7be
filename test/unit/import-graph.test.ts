import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// The shape of src/ (docs/architecture.md, "Layout"): no import cycle (type-only
// imports count: a cycle of types is a cycle of designs), nothing under src/
// reaches into test/ or bench/, and the HTTP edges that bring a pupil in
// (oidc/ for publishers, school/ for the school's answer) meet only in the
// login journey (login/), never in each other.

const ROOT = resolve(import.meta.dirname, '../..');
const SRC = join(ROOT, 'src');
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'";]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
/** Edges that must not import one another. */
const EDGES = ['oidc', 'school', 'saml', 'upstream-oidc'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every relative import of every file under src/, resolved to a path relative to the repository. */
export function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8');
    const targets = [...text.matchAll(IMPORT)]
      .map((m) => m[1] ?? m[2]!)
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => relative(ROOT, resolve(dirname(file), spec.replace(/\.js$/, '.ts'))));
    graph.set(relative(ROOT, file), targets);
  }
  return graph;
}

/** The import cycles, each as the files along it (Tarjan's strongly connected components of more than one file, or a self-import). */
export function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

const folderOf = (path: string): string | undefined => /^src\/([^/]+)\//.exec(path)?.[1];

describe('the import graph of src/', () => {
  const graph = importGraph();

  it('is read: every file of src/ with its imports', () => {
    expect(graph.size).toBeGreaterThan(50);
    expect(graph.get('src/app.ts')).toContain('src/services.ts');
  });

  it('has no cycle, type-only imports included', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('finds a cycle when there is one (the check itself)', () => {
    const looped = new Map(graph);
    looped.set('src/login/journey.ts', [...graph.get('src/login/journey.ts')!, 'src/oidc/authorize.ts']);
    expect(cycles(looped).flat()).toEqual(expect.arrayContaining(['src/login/journey.ts', 'src/oidc/authorize.ts']));
  });

  it('never reaches into test/ or bench/', () => {
    const outside = [...graph].flatMap(([from, to]) => to.filter((t) => !t.startsWith('src/')).map((t) => `${from} -> ${t}`));
    expect(outside).toEqual([]);
  });

  it('keeps the edges apart: oidc/ and school/ meet only in login/', () => {
    const crossings = [...graph].flatMap(([from, to]) =>
      to.filter((t) => EDGES.includes(folderOf(from) ?? '') && EDGES.includes(folderOf(t) ?? '') && folderOf(t) !== folderOf(from)).map((t) => `${from} -> ${t}`));
    expect(crossings).toEqual([]);
  });

  it('keeps the middle below the edges: login/ and release/ import no edge', () => {
    const upward = [...graph].flatMap(([from, to]) =>
      ['login', 'release'].includes(folderOf(from) ?? '') ? to.filter((t) => EDGES.includes(folderOf(t) ?? '')).map((t) => `${from} -> ${t}`) : []);
    expect(upward).toEqual([]);
  });
});
