// JSON.parse keeps the last of duplicate members, so a school IdP's parser and
// ours could read the same assertion differently (RFC 7515 section 4, RFC 8725).
// This parser refuses duplicates, prototype-polluting names and deep nesting.

const FORBIDDEN_NAMES = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_DEPTH = 5;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
// eslint-disable-next-line no-control-regex -- RFC 8259 forbids raw control characters in strings
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const WHITESPACE = /[ \t\n\r]*/y;

export class StrictJsonError extends Error {}

export function parseStrictJson(text: string): unknown {
  let pos = 0;

  const skip = () => {
    WHITESPACE.lastIndex = pos;
    WHITESPACE.exec(text);
    pos = WHITESPACE.lastIndex;
  };
  const fail = (what: string): never => {
    throw new StrictJsonError(`${what} at ${pos}`);
  };
  const token = (re: RegExp): string | undefined => {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) return undefined;
    pos = re.lastIndex;
    return m[0];
  };

  const value = (depth: number): unknown => {
    if (depth > MAX_DEPTH) fail('nesting too deep');
    skip();
    const c = text[pos];
    if (c === '{') return object(depth);
    if (c === '[') return array(depth);
    if (c === '"') return JSON.parse(token(STRING) ?? fail('bad string')) as string;
    for (const [word, result] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(word, pos)) {
        pos += word.length;
        return result;
      }
    }
    const n = token(NUMBER);
    return n === undefined ? fail('unexpected character') : Number(n);
  };

  const object = (depth: number): Record<string, unknown> => {
    pos++;
    const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    skip();
    if (text[pos] === '}') {
      pos++;
      return out;
    }
    for (;;) {
      skip();
      const name = JSON.parse(token(STRING) ?? fail('expected a member name')) as string;
      if (FORBIDDEN_NAMES.has(name)) fail('forbidden member name');
      if (Object.hasOwn(out, name)) fail('duplicate member');
      skip();
      if (text[pos++] !== ':') fail('expected a colon');
      out[name] = value(depth + 1);
      skip();
      const next = text[pos++];
      if (next === '}') return out;
      if (next !== ',') fail('expected a comma or closing brace');
    }
  };

  const array = (depth: number): unknown[] => {
    pos++;
    const out: unknown[] = [];
    skip();
    if (text[pos] === ']') {
      pos++;
      return out;
    }
    for (;;) {
      out.push(value(depth + 1));
      skip();
      const next = text[pos++];
      if (next === ']') return out;
      if (next !== ',') fail('expected a comma or closing bracket');
    }
  };

  const result = value(0);
  skip();
  if (pos !== text.length) fail('trailing characters');
  return result;
}
