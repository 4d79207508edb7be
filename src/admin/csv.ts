import type { FastifyReply } from 'fastify';

// CSV downloads of the admin API: the document, what is asked for, and how it
// is sent. Every download has one shape: semicolon-separated (what a Dutch
// spreadsheet program expects), UTF-8 with a byte order mark so it reads the
// accents right, CRLF lines (RFC 4180), formula cells made text, headers
// Dutch first with the English in brackets.

// OWASP "CSV injection": a cell a spreadsheet would read as a formula is made text.
const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(value: string): string {
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return /[;,"\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

const BOM = '\uFEFF';

/** A whole CSV document in the shape above: BOM, a header line, ';' between cells, CRLF lines. */
export function csvDocument(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const lines = [headers, ...rows.map((row) => row.map(String))];
  return BOM + lines.map((cells) => cells.map(csvCell).join(';')).join('\r\n') + '\r\n';
}

/** CSV on `?format=csv`, or when the client accepts text/csv and not JSON. */
export function wantsCsv(format: 'json' | 'csv' | undefined, accept: string | undefined): boolean {
  if (format !== undefined) return format === 'csv';
  const types = (accept ?? '').split(',').map((t) => t.split(';')[0]!.trim().toLowerCase());
  return types.includes('text/csv') && !types.includes('application/json');
}

export function sendCsv(reply: FastifyReply, filename: string, document: string) {
  return reply
    .type('text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${filename}"`)
    .serializer((payload: unknown) => String(payload))
    .send(document);
}
