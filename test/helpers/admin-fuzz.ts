// The pieces of the schema-driven admin API fuzz (test/admin/admin-fuzz-suite.ts):
// the operations and fields an OpenAPI document declares, the hostile values,
// the requests built from them, and what counts as a wrong answer.

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  allOf?: JsonSchema[];
  oneOf?: JsonSchema[];
}

interface OpenApiOperation {
  parameters?: Array<{ in: string; name: string }>;
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
}

export interface Operation {
  method: string;
  /** The path as documented, with {param} placeholders. */
  path: string;
  pathParams: string[];
  queryParams: string[];
  bodySchema?: JsonSchema;
}

export function adminOperations(doc: OpenApiDocument): Operation[] {
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => {
      const params = op.parameters ?? [];
      const bodySchema = op.requestBody?.content?.['application/json']?.schema;
      return {
        method: method.toUpperCase(),
        path,
        pathParams: params.filter((p) => p.in === 'path').map((p) => p.name),
        queryParams: params.filter((p) => p.in === 'query').map((p) => p.name),
        ...(bodySchema ? { bodySchema } : {}),
      };
    }),
  );
}

/** Every field a body schema declares, as a path of property names and array index 0, to `maxDepth` levels. */
export function fieldPaths(schema: JsonSchema, maxDepth = 4, prefix: Array<string | number> = []): Array<Array<string | number>> {
  if (prefix.length >= maxDepth) return [];
  const alternatives = [schema, ...(schema.anyOf ?? []), ...(schema.allOf ?? []), ...(schema.oneOf ?? [])];
  const paths: Array<Array<string | number>> = [];
  for (const alt of alternatives) {
    for (const [name, sub] of Object.entries(alt.properties ?? {})) {
      paths.push([...prefix, name], ...fieldPaths(sub, maxDepth, [...prefix, name]));
    }
    if (alt.items) paths.push([...prefix, 0], ...fieldPaths(alt.items, maxDepth, [...prefix, 0]));
  }
  const seen = new Set<string>();
  return paths.filter((p) => !seen.has(p.join('\0')) && Boolean(seen.add(p.join('\0'))));
}

/** A deep copy of `body` with `value` at `path`, creating the containers on the way. */
export function withValueAt(body: unknown, path: ReadonlyArray<string | number>, value: unknown): unknown {
  const copy = structuredClone(body) as Record<string | number, unknown>;
  let node: Record<string | number, unknown> = copy;
  path.forEach((step, i) => {
    if (i === path.length - 1) {
      node[step] = value;
      return;
    }
    const next = node[step];
    if (typeof next !== 'object' || next === null) node[step] = typeof path[i + 1] === 'number' ? [] : {};
    node = node[step] as Record<string | number, unknown>;
  });
  return copy;
}

const nested = (depth: number, leaf: (inner: unknown) => unknown): unknown => {
  let value: unknown = 'x';
  for (let i = 0; i < depth; i++) value = leaf(value);
  return value;
};

/** Values of the wrong type, malformed strings (URLs, dates, ids, encodings), huge strings and arrays, deep nesting. */
export const FUZZ_VALUES: ReadonlyArray<readonly [string, unknown]> = [
  ['0', 0], ['-1', -1], ['1.5', 1.5], ['1e308', 1e308], ['true', true], ['false', false], ['null', null], ['[]', []], ['{}', {}],
  ['an empty string', ''], ['a space', ' '], ['"not a url"', 'not a url'], ['"http://"', 'http://'], ['an unclosed IPv6 host', 'https://[::1'],
  ['javascript:', 'javascript:alert(1)'], ['file:', 'file:///etc/passwd'], ['http to a public host', 'http://example.com/x'],
  ['a URL with a fragment', 'https://a.example/#f'], ['a NUL', 'a\u0000b'], ['a lone surrogate', '\ud800'], ['path traversal', '../../etc/passwd'],
  ['%00', '%00'], ['SQL', "' OR '1'='1'; --"], ['HTML', '<script>alert(1)</script>'], ['"1e309"', '1e309'], ['"NaN"', 'NaN'],
  ['an impossible date', '2024-13-45'], ['an impossible date-time', '9999-99-99T99:99:99Z'], ['"__proto__"', '__proto__'],
  ['a huge string', 'a'.repeat(60_000)], ['a huge array', Array.from({ length: 5_000 }, () => 'a')],
  ['arrays 2000 deep', nested(2_000, (v) => [v])], ['objects 2000 deep', nested(2_000, (v) => ({ a: v }))],
];

/** Whole bodies that are not the JSON object an operation takes: [name, raw text, content type]. */
export const RAW_BODIES: ReadonlyArray<readonly [string, string, string]> = [
  ['not JSON', '{"a":', 'application/json'],
  ['JSON null', 'null', 'application/json'],
  ['a JSON array', '[]', 'application/json'],
  ['a JSON string', '"x"', 'application/json'],
  ['__proto__ pollution', '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}', 'application/json'],
  ['nested 10000 deep', `${'['.repeat(10_000)}${']'.repeat(10_000)}`, 'application/json'],
  ['over the body limit', JSON.stringify({ a: 'a'.repeat(70 * 1024) }), 'application/json'],
  ['as text/plain', '{}', 'text/plain'],
  ['as a form', 'a=1', 'application/x-www-form-urlencoded'],
];

/** Where a fuzz run sends its requests, and the valid request each probe changes one field of. */
export interface FuzzTarget {
  baseUrl: string;
  pathValue(name: string, method: string): string;
  queryValue(name: string): string;
  /** A valid body for the operation (throws for an operation without one). */
  body(op: Operation): unknown;
}

export interface Probe {
  what: string;
  method: string;
  url: string;
  body?: string;
  contentType?: string;
}

/** A path segment; a lone surrogate, which has no UTF-8 form, goes as the bytes of one (invalid UTF-8). */
const pathSegment = (value: string): string => {
  try {
    return encodeURIComponent(value);
  } catch {
    return '%ED%A0%80';
  }
};

/**
 * A value as text in a path or query, at most 2 KiB (6 KiB percent-encoded): Node refuses a request head
 * over 16 KiB (431) before any route sees it, which no route can change.
 */
const inTheUrl = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value)).slice(0, 2 * 1024);

/** The valid request, then one probe per field and hostile value, then the hostile whole bodies. */
export function probesFor(op: Operation, target: FuzzTarget): Probe[] {
  const params = Object.fromEntries(op.pathParams.map((p) => [p, target.pathValue(p, op.method)]));
  const query = Object.fromEntries(op.queryParams.map((q) => [q, target.queryValue(q)]));
  const body = op.bodySchema ? target.body(op) : undefined;
  const url = (p: Record<string, string>, q: Record<string, string>) =>
    `${target.baseUrl}${op.path.replace(/\{(\w+)\}/g, (_m, name: string) => pathSegment(p[name]!))}${Object.keys(q).length ? `?${new URLSearchParams(q).toString()}` : ''}`;
  const json = (value: unknown): Pick<Probe, 'body' | 'contentType'> => (value === undefined ? {} : { body: JSON.stringify(value), contentType: 'application/json' });
  const probes: Probe[] = [{ what: 'baseline', method: op.method, url: url(params, query), ...json(body) }];
  for (const [name, value] of FUZZ_VALUES) {
    const inUrl = inTheUrl(value);
    for (const p of op.pathParams) probes.push({ what: `path ${p} = ${name}`, method: op.method, url: url({ ...params, [p]: inUrl }, query), ...json(body) });
    for (const q of op.queryParams) probes.push({ what: `query ${q} = ${name}`, method: op.method, url: url(params, { ...query, [q]: inUrl }), ...json(body) });
    if (!op.bodySchema) continue;
    for (const path of fieldPaths(op.bodySchema)) probes.push({ what: `body ${path.join('.')} = ${name}`, method: op.method, url: url(params, query), ...json(withValueAt(body, path, value)) });
  }
  if (op.bodySchema) for (const [name, raw, contentType] of RAW_BODIES) probes.push({ what: `body ${name}`, method: op.method, url: url(params, query), body: raw, contentType });
  return probes;
}

/**
 * What is wrong with an answer, or undefined: a 4xx must be problem+json with its status inside; a 5xx is
 * wrong, except the one capacity answer by design: valid fuzzed values start resolution jobs, and past the
 * running-jobs bound the API answers 503 jobs_busy with Retry-After.
 */
export async function faultOf(res: Response): Promise<string | undefined> {
  const text = await res.text();
  if (res.status === 503 && text.includes('"urn:pgw:problem:jobs_busy"') && res.headers.get('retry-after')) return undefined;
  if (res.status >= 500) return `${res.status} ${text.slice(0, 200)}`;
  if (res.status < 400) return undefined;
  if (!(res.headers.get('content-type') ?? '').startsWith('application/problem+json')) return `${res.status} as ${res.headers.get('content-type')}`;
  const body = JSON.parse(text) as { type?: unknown; status?: unknown };
  if (typeof body.type !== 'string' || !body.type.startsWith('urn:pgw:problem:') || body.status !== res.status) return `${res.status} with ${text.slice(0, 200)}`;
  return undefined;
}

/** Send every probe, `concurrency` at a time; returns one line per wrong answer. */
export async function runProbes(probes: readonly Probe[], token: string, concurrency = 6): Promise<string[]> {
  const faults: string[] = [];
  const queue = [...probes];
  await Promise.all(Array.from({ length: concurrency }, async () => {
    for (let probe = queue.shift(); probe; probe = queue.shift()) {
      const headers: Record<string, string> = { authorization: `Bearer ${token}`, ...(probe.contentType ? { 'content-type': probe.contentType } : {}) };
      const res = await fetch(probe.url, { method: probe.method, headers, ...(probe.body === undefined ? {} : { body: probe.body }) });
      const wrong = await faultOf(res);
      if (wrong) faults.push(`${probe.method} ${new URL(probe.url).pathname.slice(0, 80)} ${probe.what}: ${wrong}`);
    }
  }));
  return faults;
}
