import { CsvError, parse } from 'csv-parse';
import { fileProblem, yieldToLoop } from './problems.js';

// One OneRoster CSV file (RFC 4180, a header row naming the columns; docs/roster.md,
// "OneRoster") read with csv-parse, fed in slices so a large file does not hold
// the event loop. Every row keeps the 1-based line it ends on.

export interface CsvRow {
  line: number;
  values: Record<string, string>;
}

export interface CsvFile {
  name: string;
  columns: string[];
  rows: CsvRow[];
}

const CHUNK_CHARS = 256 * 1024;

export async function readCsv(name: string, text: string): Promise<CsvFile> {
  let columns: string[] = [];
  const rows: CsvRow[] = [];
  const parser = parse({
    bom: true,
    info: true,
    skip_empty_lines: true,
    columns: (header: string[]) => (columns = header.map((h) => h.trim())),
  });
  parser.on('readable', () => {
    for (let r: { record: Record<string, string>; info: { lines: number } } | null; (r = parser.read() as typeof r) !== null; ) rows.push({ line: r.info.lines, values: r.record });
  });
  const done = new Promise<void>((resolve, reject) => {
    parser.on('end', resolve);
    parser.on('error', reject);
  });
  try {
    for (let i = 0; i < text.length; i += CHUNK_CHARS) {
      parser.write(text.slice(i, i + CHUNK_CHARS));
      await yieldToLoop();
    }
    parser.end();
    await done;
  } catch (err) {
    if (err instanceof CsvError) throw fileProblem(name, '(file)', `not valid CSV at line ${String((err as unknown as { lines?: number }).lines ?? '?')}: ${err.code}`);
    throw err;
  }
  return { name, columns, rows };
}

/** A required column missing from the header refuses the file. */
export function requireColumns(file: CsvFile, required: readonly string[]): void {
  const missing = required.find((c) => !file.columns.includes(c));
  if (missing) throw fileProblem(file.name, missing, 'a required column is missing');
}

/** A row's value, trimmed; empty reads as absent (OneRoster's "no value"). */
export function valueOf(row: CsvRow, column: string): string | undefined {
  const v = row.values[column]?.trim();
  return v ? v : undefined;
}

/** OneRoster's list fields: comma-separated values inside one field. */
export const listOf = (row: CsvRow, column: string): string[] => (valueOf(row, column) ?? '').split(',').map((s) => s.trim()).filter(Boolean);

/** Rows the export marks for deletion are no part of the roster. */
export const isActive = (row: CsvRow): boolean => valueOf(row, 'status') !== 'tobedeleted';
