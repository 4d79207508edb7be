// JSON.parse keeps the last of duplicate members, so a school IdP's parser and
// ours could read the same assertion differently (RFC 7515 section 4, RFC 8725).
// This parser refuses duplicates, prototype-polluting names and deep nesting.
//
// The grammar is checked by the engine's own JSON.parse (RFC 8259, native and
// fast); a second pass over the now known-valid text then looks only at the
// structure: member names per object and nesting depth. Every object in the
// result has a null prototype, so no inherited name reads as a claim.

const FORBIDDEN_NAMES = new Set(['__proto__', 'constructor', 'prototype']);
/** Objects and arrays nested deeper than this (the outermost counts as 1) are refused. */
export const MAX_NESTING = 6;

export class StrictJsonError extends Error {}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

export function parseStrictJson(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new StrictJsonError(err instanceof Error ? err.message : 'invalid JSON');
  }
  checkStructure(text);
  return withoutPrototypes(value);
}

/**
 * Walks valid JSON text: for each open object, the member names seen so far
 * (undefined for an array). A string is a member name when it follows `{` or
 * `,` inside an object.
 */
function checkStructure(text: string): void {
  const open: (Set<string> | undefined)[] = [];
  let expectName = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      let end = i + 1;
      let escaped = false;
      for (;;) {
        const d = text.charCodeAt(end);
        if (d === BACKSLASH) {
          escaped = true;
          end += 2;
        } else if (d === QUOTE) break;
        else end++;
      }
      if (expectName) {
        const name = escaped ? (JSON.parse(text.slice(i, end + 1)) as string) : text.slice(i + 1, end);
        if (FORBIDDEN_NAMES.has(name)) throw new StrictJsonError(`forbidden member name at ${i}`);
        const names = open[open.length - 1]!;
        if (names.has(name)) throw new StrictJsonError(`duplicate member at ${i}`);
        names.add(name);
        expectName = false;
      }
      i = end;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (open.length === MAX_NESTING) throw new StrictJsonError(`nesting too deep at ${i}`);
      const isObject = c === OPEN_OBJECT;
      open.push(isObject ? new Set() : undefined);
      expectName = isObject;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      open.pop();
      expectName = false;
    } else if (c === COMMA) {
      expectName = open[open.length - 1] !== undefined;
    }
  }
}

function withoutPrototypes(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = withoutPrototypes(value[i]);
    return value;
  }
  const out = Object.create(null) as Record<string, unknown>;
  for (const [name, member] of Object.entries(value)) out[name] = withoutPrototypes(member);
  return out;
}
