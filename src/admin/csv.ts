import type { FastifyReply, FastifyRequest } from 'fastify';

// CSV downloads a school hands on (to parents, to a results spreadsheet):
// UTF-8 with a byte-order mark and ';' between fields, which is what Excel in
// a Dutch locale opens as columns; CRLF line ends and quoting as in RFC 4180.
// Headers are Dutch first, English second, e.g. "Positie (position)".

export type Cell = string | number;

/** RFC 4180 quoting; a text cell that a spreadsheet would read as a formula gets a leading apostrophe. */
function cell(value: Cell): string {
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[";\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvDocument(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const lines = [headers, ...rows].map((row) => row.map(cell).join(';'));
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

/** `?format=csv`, or an Accept header naming text/csv without `?format=json`. */
export function wantsCsv(request: FastifyRequest, format: 'csv' | 'json' | undefined): boolean {
  if (format !== undefined) return format === 'csv';
  return /(^|,)\s*text\/csv\s*(;|,|$)/i.test(request.headers.accept ?? '');
}

export function sendCsv(reply: FastifyReply, filename: string, document: string) {
  return reply
    .type('text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${filename}"`)
    .serializer((payload: unknown) => String(payload))
    .send(document);
}
