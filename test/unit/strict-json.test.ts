import { describe, expect, it } from 'vitest';
import { MAX_NESTING, parseStrictJson, StrictJsonError } from '../../src/crypto/strict-json.js';

const nested = (levels: number): string => '{"a":'.repeat(levels - 1) + '{}' + '}'.repeat(levels - 1);

describe('strict JSON', () => {
  it.each([
    '{"iss":"https://idp.example","iat":1700000000,"groups":[{"key":"8a","grade":8},{"key":"8b","grade":8}]}',
    '{"a":"with \\"quotes\\", commas, {braces} and [brackets]","b":"\\\\","c":"\\u00e9"}',
    '[{"a":1},{"a":1},[],{}]',
    ' { "a" : [ 1 , 2.5e3 , -0 , true , false , null ] , "b" : { } } ',
    '"a string"',
    '{"a":{"b":1},"b":{"a":1}}',
    '{"a":[1,{"b":2},3],"b":4}',
    nested(MAX_NESTING),
  ])('reads %s exactly as JSON.parse does', (text) => {
    expect(parseStrictJson(text)).toStrictEqual(JSON.parse(text, (_k, v: unknown) =>
      v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.assign(Object.create(null) as object, v) : v));
  });

  it('gives objects without a prototype, so no inherited name reads as a member', () => {
    const value = parseStrictJson('{"groups":[{"key":"8a"}]}') as { groups: object[]; toString?: unknown };
    expect(Object.getPrototypeOf(value)).toBeNull();
    expect(Object.getPrototypeOf(value.groups[0])).toBeNull();
    expect(value.toString).toBeUndefined();
  });

  it.each([
    ['a duplicate member', '{"sub":"a","sub":"b"}'],
    ['a duplicate member spelled with an escape', '{"sub":"a","\\u0073ub":"b"}'],
    ['a duplicate member after a nested array', '{"a":[{"x":1}],"b":1,"a":2}'],
    ['a duplicate member inside an array element', '[{"key":"8a","key":"8b"}]'],
    ['__proto__', '{"__proto__":{"polluted":true}}'],
    ['__proto__ spelled with an escape', '{"\\u005f_proto__":{}}'],
    ['constructor', '{"a":[{"constructor":1}]}'],
    ['prototype', '{"prototype":1}'],
    ['nesting one level too deep', nested(MAX_NESTING + 1)],
    ['arrays nested too deep', '['.repeat(MAX_NESTING + 1) + ']'.repeat(MAX_NESTING + 1)],
    ['a trailing comma', '{"a":1,}'],
    ['single quotes', "{'a':1}"],
    ['a leading zero', '{"a":01}'],
    ['NaN', '{"a":NaN}'],
    ['trailing characters', '{"a":1} x'],
    ['a raw control character in a string', '{"a":"x\u0001"}'],
    ['an empty text', ''],
  ])('refuses %s', (_name, text) => {
    expect(() => parseStrictJson(text)).toThrow(StrictJsonError);
  });
});
