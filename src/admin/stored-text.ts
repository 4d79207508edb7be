import type { FastifyRequest } from 'fastify';
import { invalidField } from './problem.js';

// PostgreSQL text and jsonb hold neither NUL (U+0000) nor an unpaired UTF-16
// surrogate, which JSON can carry (\u0000, \ud800): such a value would fail
// the write with a data exception, a 500. Every string of a valid admin request,
// member names included, is checked once its schema has passed (a schema's own
// rule about control characters answers first), so the caller gets a 400
// naming the field instead.

const MESSAGE = 'must not contain NUL characters or unpaired surrogates';

// With the u flag a well-formed pair is one code point; only a lone half is in category Cs.
const UNSTORABLE = /[\0\p{Cs}]/u;
const storable = (text: string): boolean => !UNSTORABLE.test(text);

/** The dotted path of the first string in `value` that cannot be stored, or undefined. Iterative: bodies may nest deeply. */
export function unstorableField(value: unknown): string | undefined {
  const pending: Array<{ value: unknown; path: string }> = [{ value, path: '' }];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const { value: node, path } = next;
    if (typeof node === 'string') {
      if (!storable(node)) return path || '(body)';
    } else if (typeof node === 'object' && node !== null) {
      for (const [name, child] of Object.entries(node)) {
        const childPath = path ? `${path}.${name}` : name;
        if (!storable(name)) return childPath;
        pending.push({ value: child, path: childPath });
      }
    }
  }
  return undefined;
}

/** preHandler hook of the admin scope: refuse text the database cannot store, naming where it is. */
export async function refuseUnstorableText(request: FastifyRequest): Promise<void> {
  const inParams = unstorableField(request.params);
  if (inParams !== undefined) throw invalidField(`params.${inParams}`, MESSAGE);
  const inQuery = unstorableField(request.query);
  if (inQuery !== undefined) throw invalidField(`querystring.${inQuery}`, MESSAGE);
  const inBody = unstorableField(request.body);
  if (inBody !== undefined) throw invalidField(inBody, MESSAGE);
}
