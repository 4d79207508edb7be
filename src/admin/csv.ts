import type { FastifyReply } from 'fastify';

// CSV downloads of the admin API: what is asked for, and how it is sent. The
// document itself (UTF-8 with a byte-order mark, ';' between fields, CRLF,
// formula cells made text, headers Dutch first) is src/privacy/access-request-csv.ts's.

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
