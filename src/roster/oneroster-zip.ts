import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { fileProblem } from './problems.js';

// The files of a OneRoster 1.2 CSV bulk zip (docs/roster.md, "OneRoster"),
// read with yauzl and bounded against zip bombs: only the named files at the
// zip's top level are inflated, each refused above MAX_FILE_BYTES by its
// declared size and again by the bytes actually inflated (yauzl also checks
// that the two agree), the total above MAX_TOTAL_BYTES, and the entry count
// above MAX_ENTRIES. Encrypted entries are refused.

export const MAX_FILE_BYTES = 128 * 1024 * 1024;
export const MAX_TOTAL_BYTES = 256 * 1024 * 1024;
const MAX_ENTRIES = 200;
const FILE = 'body';

export interface ZipLimits {
  maxFileBytes: number;
  maxTotalBytes: number;
}

const LIMITS: ZipLimits = { maxFileBytes: MAX_FILE_BYTES, maxTotalBytes: MAX_TOTAL_BYTES };

const tooLarge = (name: string) => fileProblem(name, '(file)', 'too large: above the per-file or the total bound of the import');

function inflate(zip: ZipFile, entry: Entry, budget: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (err, stream) => {
      if (err) return reject(err);
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > budget) stream.destroy(tooLarge(entry.fileName));
        else chunks.push(chunk);
      });
      stream.on('error', reject);
      stream.on('end', () => resolve(Buffer.concat(chunks)));
    });
  });
}

/** The wanted files of the zip by name (those present), as UTF-8 text without a byte-order mark. */
export async function readZipFiles(body: Buffer, wanted: ReadonlySet<string>, limits: ZipLimits = LIMITS): Promise<Map<string, string>> {
  let zip: ZipFile;
  try {
    zip = await yauzl.fromBufferPromise(body, { lazyEntries: true, validateEntrySizes: true, strictFileNames: true });
  } catch {
    throw fileProblem(FILE, '(file)', 'not a zip file');
  }
  const files = new Map<string, string>();
  let entries = 0;
  let total = 0;
  try {
    for await (const entry of zip.eachEntry()) {
      if (++entries > MAX_ENTRIES) throw fileProblem(FILE, '(file)', `more than ${MAX_ENTRIES} entries`);
      if (!wanted.has(entry.fileName)) continue;
      if (entry.isEncrypted()) throw fileProblem(entry.fileName, '(file)', 'encrypted');
      if (entry.uncompressedSize > limits.maxFileBytes || total + entry.uncompressedSize > limits.maxTotalBytes) throw tooLarge(entry.fileName);
      const data = await inflate(zip, entry, Math.min(limits.maxFileBytes, limits.maxTotalBytes - total));
      total += data.length;
      files.set(entry.fileName, decodeUtf8(entry.fileName, data));
    }
  } catch (err) {
    if (err instanceof Error && err.name === 'RosterRefused') throw err;
    throw fileProblem(FILE, '(file)', 'a damaged zip file');
  }
  return files;
}

function decodeUtf8(name: string, data: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(data);
  } catch {
    throw fileProblem(name, '(file)', 'the file must be UTF-8');
  }
}
