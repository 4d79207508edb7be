import { describe, expect, it } from 'vitest';
import { readZipFiles } from '../../src/roster/oneroster-zip.js';
import { RosterRefused } from '../../src/roster/problems.js';
import { zipOf } from '../../support/roster-files.js';

// The zip bounds of a OneRoster import (docs/roster.md, "OneRoster"): a file
// above the bound is refused by its declared size before it is inflated, and a
// file whose declared size lies is refused by the bytes actually inflated.

const WANTED = new Set(['users.csv', 'orgs.csv']);
const LIMITS = { maxFileBytes: 64 * 1024, maxTotalBytes: 100 * 1024 };

async function refusal(promise: Promise<unknown>): Promise<unknown> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(RosterRefused);
  return (err as RosterRefused).problems;
}

/** Patch every central-directory entry's uncompressed size (offset 24 of 0x02014b50) to `size`. */
function lieAboutSizes(zip: Buffer, size: number): Buffer {
  const out = Buffer.from(zip);
  for (let i = out.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])); i >= 0; i = out.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]), i + 4)) out.writeUInt32LE(size, i + 24);
  return out;
}

describe('reading a OneRoster zip', () => {
  it('reads the wanted top-level files as text and ignores the others', async () => {
    const files = await readZipFiles(await zipOf({ 'users.csv': '\uFEFFsourcedId\r\n1\r\n', 'courses.csv': 'x', 'sub/orgs.csv': 'y' }), WANTED, LIMITS);
    expect([...files]).toEqual([['users.csv', 'sourcedId\r\n1\r\n']]);
  });

  it('refuses a file above the bound by its declared size (a zip bomb is never inflated)', async () => {
    const bomb = await zipOf({ 'users.csv': 'a'.repeat(LIMITS.maxFileBytes + 1) });
    expect(bomb.length).toBeLessThan(2_000);
    expect(await refusal(readZipFiles(bomb, WANTED, LIMITS))).toEqual([{ file: 'users.csv', field: '(file)', detail: 'too large: above the per-file or the total bound of the import' }]);
  });

  it('refuses files that together pass the total bound', async () => {
    const zip = await zipOf({ 'users.csv': 'a'.repeat(60 * 1024), 'orgs.csv': 'b'.repeat(60 * 1024) });
    expect(await refusal(readZipFiles(zip, WANTED, LIMITS))).toEqual([{ file: 'orgs.csv', field: '(file)', detail: 'too large: above the per-file or the total bound of the import' }]);
  });

  it('refuses a file whose declared size lies, by the bytes inflated', async () => {
    const liar = lieAboutSizes(await zipOf({ 'users.csv': 'a'.repeat(LIMITS.maxFileBytes * 4) }), 10);
    expect(await refusal(readZipFiles(liar, WANTED, LIMITS))).toHaveLength(1);
  });

  it('refuses what is not a zip, and a file that is not UTF-8', async () => {
    expect(await refusal(readZipFiles(Buffer.from('not a zip at all'), WANTED, LIMITS))).toEqual([{ file: 'body', field: '(file)', detail: 'not a zip file' }]);
    const latin1 = await zipOf({ 'users.csv': Buffer.from('sourcedId,givenName\r\n1,Ren\xe9\r\n', 'latin1') });
    expect(await refusal(readZipFiles(latin1, WANTED, LIMITS))).toEqual([{ file: 'users.csv', field: '(file)', detail: 'the file must be UTF-8' }]);
  });
});
