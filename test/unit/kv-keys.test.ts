import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KV_KEYS } from '../../src/store/kv-keys.js';

// One table of every KV key (src/store/kv-keys.ts) and its page for operators
// (docs/redis-keys.md): the two say the same, and no prefix shadows another.

const ROOT = resolve(import.meta.dirname, '../..');
const unquote = (cell: string) => cell.trim().replace(/^`|`$/g, '');

/** The rows of the table in docs/redis-keys.md: prefix, owner, lifetime. */
function documentedKeys(): { prefix: string; owner: string; ttl: string }[] {
  const text = readFileSync(join(ROOT, 'docs/redis-keys.md'), 'utf8');
  return text
    .split('\n')
    .filter((line) => /^\| `[a-z-]+:` \|/.test(line))
    .map((line) => {
      const [prefix = '', owner = '', ttl = ''] = line.split('|').slice(1).map((cell) => cell.trim());
      return { prefix: unquote(prefix), owner: unquote(owner), ttl: ttl.replaceAll('`', '') };
    });
}

describe('the KV key table', () => {
  const kinds = Object.values(KV_KEYS);

  it('has distinct prefixes, none the start of another (a scan by prefix finds one kind only)', () => {
    for (const a of kinds) for (const b of kinds) if (a !== b) expect(b.prefix.startsWith(a.prefix), `${a.prefix} / ${b.prefix}`).toBe(false);
  });

  it('names owners that exist', () => {
    for (const kind of kinds) expect(existsSync(join(ROOT, kind.owner)), kind.owner).toBe(true);
  });

  it('is the table of docs/redis-keys.md, row for row', () => {
    expect(documentedKeys()).toEqual(kinds.map((k) => ({ prefix: k.prefix, owner: k.owner, ttl: k.ttl.replaceAll('`', '') })));
  });
});
