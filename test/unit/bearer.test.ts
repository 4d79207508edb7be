import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { bearerCredentials } from '../../src/http/bearer.js';

// The one reader of bearer credentials (src/http/bearer.ts), used by /userinfo,
// the admin API and the metrics route.

describe('bearerCredentials', () => {
  it.each([
    ['Bearer abc-._~+/xyz==', { token: 'abc-._~+/xyz==' }],
    ['bearer abc', { token: 'abc' }],
    ['BEARER abc', { token: 'abc' }],
    [undefined, { missing: 'none' }],
    ['Basic dXNlcjpwYXNz', { missing: 'none' }],
    ['Bearerabc', { missing: 'none' }],
    ['Bearer', { missing: 'malformed' }],
    ['Bearer ', { missing: 'malformed' }],
    ['Bearer a b', { missing: 'malformed' }],
    ['Bearer  abc', { missing: 'malformed' }],
    ['Bearer a=b', { missing: 'malformed' }],
    ['Bearer ab!c', { missing: 'malformed' }],
    [`Bearer ${'a'.repeat(17)}`, { missing: 'malformed' }],
  ])('%s', (header, expected) => {
    expect(bearerCredentials(header, 16)).toEqual(expected);
  });
});

describe('configured bearer tokens can be presented as bearer tokens', () => {
  it.each(['OPERATOR_BOOTSTRAP_TOKEN', 'METRICS_TOKEN'])('%s refuses characters a bearer token cannot carry', (name) => {
    expect(() => loadConfig({ NODE_ENV: 'test', [name]: `${'x'.repeat(40)}!` })).toThrow(new RegExp(`${name}: must be 32 to 512 characters`));
    expect(loadConfig({ NODE_ENV: 'test', [name]: 'x'.repeat(40) })[name as 'METRICS_TOKEN']).toBe('x'.repeat(40));
  });
});
