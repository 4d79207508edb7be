import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWorld, type World } from '../helpers/fixture.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { call } from '../helpers/token-userinfo-requests.js';

// The discovery document (OpenID Connect Discovery 1.0 section 3), value by
// value, each endpoint it names answering; and HSTS (RFC 6797) on an https
// issuer only. The https gateway listens on loopback like every test gateway
// (TLS ends at a proxy in production); requests go to its loopback address,
// never to the https issuer's host.

const HTTPS_ISSUER = 'https://login.gateway.example';

let world: World;
let plain: TestGateway;
let https: TestGateway;
let httpsLocal: string;

beforeAll(async () => {
  world = await makeWorld();
  plain = await startGateway({ seed: world.seed });
  https = await startGateway({ seed: world.seed, env: { ISSUER: HTTPS_ISSUER } });
  httpsLocal = `http://127.0.0.1:${(https.app.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await plain?.close();
  await https?.close();
});

describe('the discovery document, value by value', () => {
  let doc: Record<string, unknown>;
  let issuer: string;
  beforeAll(async () => {
    issuer = plain.url;
    const res = await call(`${issuer}/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    doc = res.json!;
  });

  const expected = (issuer: string): [string, unknown][] => [
    ['issuer', issuer],
    ['authorization_endpoint', `${issuer}/authorize`],
    ['token_endpoint', `${issuer}/token`],
    ['userinfo_endpoint', `${issuer}/userinfo`],
    ['jwks_uri', `${issuer}/jwks.json`],
    ['scopes_supported', ['openid']],
    ['response_types_supported', ['code']],
    ['response_modes_supported', ['query']],
    ['grant_types_supported', ['authorization_code']],
    ['subject_types_supported', ['pairwise']],
    ['id_token_signing_alg_values_supported', ['ES256']],
    ['token_endpoint_auth_methods_supported', ['private_key_jwt', 'client_secret_basic']],
    ['token_endpoint_auth_signing_alg_values_supported', ['ES256', 'EdDSA', 'Ed25519', 'PS256', 'RS256']],
    ['code_challenge_methods_supported', ['S256']],
    ['claims_supported', ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'previous_sub', 'school', 'role', 'grade', 'groups', 'group_names', 'given_name', 'family_name', 'tussenvoegsel', 'birthdate', 'gender']],
    ['claims_parameter_supported', false],
    ['request_parameter_supported', false],
    ['request_uri_parameter_supported', false],
    ['authorization_response_iss_parameter_supported', true],
    ['ui_locales_supported', ['nl', 'en']],
  ];

  it.each(expected('ISSUER'))('%s', (name, value) => {
    expect(doc[name]).toEqual(JSON.parse(JSON.stringify(value).replaceAll('ISSUER', issuer)));
  });

  it('has no other member', () => {
    expect(Object.keys(doc).sort()).toEqual(expected(issuer).map(([name]) => name).sort());
  });

  it('is public, cacheable for 5 minutes, readable cross-origin', async () => {
    const res = await call(`${issuer}/.well-known/openid-configuration`);
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('every endpoint it names answers as that endpoint', async () => {
    expect((await call(doc.authorization_endpoint as string)).status).toBe(400); // a page: no client_id
    const token = await call(doc.token_endpoint as string, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    expect({ status: token.status, error: token.json?.error }).toEqual({ status: 400, error: 'invalid_request' });
    const userinfo = await call(doc.userinfo_endpoint as string);
    expect(userinfo.status).toBe(401);
    expect(userinfo.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const jwks = await call(doc.jwks_uri as string);
    expect(jwks.json).toEqual(plain.signing.jwks);
  });

  it('an https issuer names https endpoints, never the address it listens on', async () => {
    const res = await call(`${httpsLocal}/.well-known/openid-configuration`);
    for (const [name, value] of expected(HTTPS_ISSUER)) expect([name, res.json![name]]).toEqual([name, value]);
  });
});

describe('HSTS', () => {
  const paths = ['/.well-known/openid-configuration', '/jwks.json', '/authorize', '/logout', '/healthz', '/no-such-page'];

  it.each(paths)('%s on an https issuer: Strict-Transport-Security for a year, subdomains included', async (path) => {
    const res = await call(`${httpsLocal}${path}`);
    expect(res.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
  });

  it('also on /token errors', async () => {
    const res = await call(`${httpsLocal}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    expect(res.status).toBe(400);
    expect(res.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
  });

  it.each(paths)('%s on an http loopback issuer: none (browsers ignore it over http, and it would pin localhost)', async (path) => {
    const res = await call(`${plain.url}${path}`);
    expect(res.headers.get('strict-transport-security')).toBeNull();
  });
});
