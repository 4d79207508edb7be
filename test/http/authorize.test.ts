import { createHash, randomBytes } from 'node:crypto';
import { domainToASCII } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MemoryKv } from '../../src/store/memory-kv.js';
import { loginCookieOf, postAssertion } from '../helpers/browser.js';
import { LEES_CB, makeWorld, PUPIL, REKEN_CB, type World } from '../helpers/fixture.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { TestPublisher } from '../helpers/publisher.js';
import type { TestSchool } from '../helpers/test-school.js';

// Negative and edge cases of GET|POST /authorize (docs/openid-connect.md:
// redirect URI fuzzing, PKCE, parameters, prompt, school_hint). Until the
// client and its redirect URI are verified every error is a 400 page; after
// that it is a 303 back to the client with error, state and iss.

/** A third client whose redirect URIs carry a query, a trailing slash and a non-ASCII path. */
const QUERY_CB = 'https://queryapp.example/cb?tenant=a&lang=nl';
const SLASH_CB = 'https://queryapp.example/return/';
const CAFE_CB = 'https://queryapp.example/caf%C3%A9';

const STATE = 'st-Zq3xK9pL2mN7vB4c';
const NONCE = 'no-Hy6tR1wE8uI0oP5a';
const CHALLENGE = createHash('sha256').update('a-verifier-that-nobody-will-ever-redeem-0123456789').digest('base64url');

/** RFC 6749 section 4.1.2.1: error_description is %x20-21 / %x23-5B / %x5D-7E. */
const DESCRIPTION_CHARS = /^[\x20-\x21\x23-\x5B\x5D-\x7E]*$/;

type Entries = [string, string][];

interface Outcome {
  res: Response;
  body: string;
  /** KV keys that appeared during the request. */
  added: string[];
  /** Log lines written during the request. */
  logs: string[];
}

let world: World;
let gateway: TestGateway;
let reken: TestPublisher;
/** The page an unknown client gets; every redirect-URI failure must get exactly this page. */
let unknownClientPage: Outcome;

const kvKeys = (gw: TestGateway = gateway) => (gw.kv as MemoryKv).keys().sort();

/** The parameters of a correct request from rekenapp, with overrides (undefined removes one) and extra pairs appended. */
function entries(overrides: Record<string, string | undefined> = {}, extra: Entries = []): Entries {
  const merged: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: 'rekenapp',
    redirect_uri: REKEN_CB,
    scope: 'openid',
    state: STATE,
    nonce: NONCE,
    code_challenge: CHALLENGE,
    code_challenge_method: 'S256',
    school_hint: '12AB',
    ...overrides,
  };
  return [...Object.entries(merged).filter((e): e is [string, string] => e[1] !== undefined), ...extra];
}

function authorizeUrl(params: Entries, gw: TestGateway = gateway): URL {
  const url = new URL('/authorize', gw.url);
  for (const [name, value] of params) url.searchParams.append(name, value);
  return url;
}

/** Send a request and record what it stored and logged. */
async function send(init: () => Promise<Response>, gw: TestGateway = gateway): Promise<Outcome> {
  const before = new Set(kvKeys(gw));
  const logCount = gw.logs.length;
  const res = await init();
  const body = await res.text();
  return { res, body, added: kvKeys(gw).filter((k) => !before.has(k)), logs: gw.logs.slice(logCount) };
}

const authorize = (params: Entries, gw: TestGateway = gateway) =>
  send(() => fetch(authorizeUrl(params, gw), { redirect: 'manual' }), gw);

const authorizePost = (params: Entries, query: Entries = []) =>
  send(() => {
    const url = authorizeUrl(query);
    return fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params).toString(),
    });
  });

const codeOf = (html: string): string | undefined => /<code>([^<]*)<\/code>/.exec(html)?.[1];

function expectSecurityHeaders(res: Response): void {
  expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  expect(res.headers.get('x-frame-options')).toBe('DENY');
  expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
}

/** A browser-facing error page: status, the <code> element, no Location, nothing stored. */
function expectPage(outcome: Outcome, code: string, status = 400): void {
  const { res, body, added } = outcome;
  expect(res.status).toBe(status);
  expect(res.headers.get('location')).toBeNull();
  expect(res.headers.get('content-type')).toMatch(/^text\/html/);
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(codeOf(body)).toBe(code);
  expectSecurityHeaders(res);
  expect(added).toEqual([]);
}

/**
 * An OAuth error sent back to the verified redirect URI (RFC 6749 section
 * 4.1.2.1, RFC 9207): 303, the registered URI kept as it is, error, state
 * (only when one was sent), iss, a description within the allowed characters,
 * no code, nothing stored.
 */
function expectErrorRedirect(outcome: Outcome, error: string, opts: { state?: string | null; redirectUri?: string } = {}): URLSearchParams {
  const { res, body, added } = outcome;
  const redirectUri = opts.redirectUri ?? REKEN_CB;
  const state = opts.state === undefined ? STATE : opts.state;
  expect(res.status).toBe(303);
  const location = res.headers.get('location');
  expect(location).not.toBeNull();
  expect(location!.startsWith(`${redirectUri}${redirectUri.includes('?') ? '&' : '?'}`)).toBe(true);
  const params = new URL(location!).searchParams;
  const registered = new URL(redirectUri).searchParams;
  expect(params.get('error')).toBe(error);
  expect(params.get('state')).toBe(state);
  expect(params.getAll('iss')).toEqual([gateway.url]);
  expect(params.has('code')).toBe(false);
  const description = params.get('error_description');
  if (description !== null) expect(description).toMatch(DESCRIPTION_CHARS);
  const allowed = new Set(['error', 'error_description', 'state', 'iss', ...registered.keys()]);
  expect([...params.keys()].filter((k) => !allowed.has(k))).toEqual([]);
  expect(body).toBe('');
  expect(added).toEqual([]);
  return params;
}

/** Success: a 303 to the school's loginUrl with a login request the school can verify, and one pending login stored. */
async function expectSchoolLogin(outcome: Outcome, school: TestSchool = world.regenboog, gw: TestGateway = gateway) {
  const { res, added } = outcome;
  expect(res.status).toBe(303);
  const location = res.headers.get('location');
  expect(location).not.toBeNull();
  const { payload } = await school.readLoginRequest(location!, gw.signing.jwks, gw.url);
  expect(payload.return_to).toBe(`${gw.url}/school/assertion`);
  expect(added).toHaveLength(1);
  expect(added[0]).toMatch(/^txn:/);
  return { ...payload, cookie: loginCookieOf(res) };
}

function seedWithQueryClient(w: World) {
  return {
    ...w.seed,
    clients: [
      ...w.seed.clients,
      {
        clientId: 'queryapp', supplier: 'uitgever-b', name: 'Queryapp',
        redirectUris: [QUERY_CB, SLASH_CB, CAFE_CB],
        jwks: { keys: [w.rekenKey.publicJwk] },
        claims: ['school'],
      },
    ],
    licences: [...w.seed.licences, { school: '12AB', client: 'queryapp', claims: ['school'] }],
  };
}

beforeAll(async () => {
  world = await makeWorld();
  gateway = await startGateway({ seed: seedWithQueryClient(world) });
  reken = await TestPublisher.create(gateway.url, 'rekenapp', REKEN_CB, { key: world.rekenKey });
  unknownClientPage = await authorize(entries({ client_id: 'no-such-client' }));
});
afterAll(async () => {
  await gateway?.close();
});

describe('unknown client or unregistered redirect URI: a 400 page, never a redirect (cases 1-3, 77)', () => {
  it('answers an unknown client_id with the page unknown_client_or_redirect_uri and logs it without the input', async () => {
    const marker = 'evil-client-7f3a';
    const outcome = await authorize(entries({ client_id: marker }));
    expectPage(outcome, 'unknown_client_or_redirect_uri');
    expect(outcome.body).not.toContain(marker);
    const refused = outcome.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.code === 'unknown_client_or_redirect_uri');
    expect(refused).toHaveLength(1);
    expect(outcome.logs.join('\n')).not.toContain(marker);
  });

  it.each<[string, Record<string, string | undefined>]>([
    ['client_id missing', { client_id: undefined }],
    ['client_id empty', { client_id: '' }],
    ['client_id in other case', { client_id: 'RekenApp' }],
    ['client_id with trailing space', { client_id: 'rekenapp ' }],
    ['client_id with a NUL byte', { client_id: 'rekenapp\0' }],
  ])('answers %s with the unknown-client page', async (_label, overrides) => {
    const outcome = await authorize(entries(overrides));
    expectPage(outcome, 'unknown_client_or_redirect_uri');
    expect(outcome.body).toBe(unknownClientPage.body);
  });

  it('gives an unknown client and a known client with a bad redirect URI the same page (case 77)', async () => {
    const badRedirect = await authorize(entries({ redirect_uri: 'https://evil.example/cb' }));
    expectPage(unknownClientPage, 'unknown_client_or_redirect_uri');
    expectPage(badRedirect, 'unknown_client_or_redirect_uri');
    expect(badRedirect.body).toBe(unknownClientPage.body);
    const headerNames = (r: Response) => [...r.headers.keys()].filter((k) => k !== 'date').sort();
    expect(headerNames(badRedirect.res)).toEqual(headerNames(unknownClientPage.res));
  });

  it('answers redirect_uri omitted with a page, for a client with two registered URIs (case 3) and with one', async () => {
    const two = await authorize(entries({ redirect_uri: undefined }));
    expectPage(two, 'unknown_client_or_redirect_uri');
    const one = await authorize(entries({ client_id: 'leesapp', redirect_uri: undefined }));
    expectPage(one, 'unknown_client_or_redirect_uri');
    const empty = await authorize(entries({ redirect_uri: '' }));
    expectPage(empty, 'unknown_client_or_redirect_uri');
  });

  it('does not hand an unknown client an OAuth redirect even when every other parameter is wrong too', async () => {
    const outcome = await authorize(entries({ client_id: 'nobody', response_type: 'token', scope: 'email', code_challenge: undefined, prompt: 'none' }));
    expectPage(outcome, 'unknown_client_or_redirect_uri');
  });
});

describe('redirect URI fuzz set (section 6.2): only a byte-identical registered URI passes (case 2)', () => {
  const long = (n: number) => `${REKEN_CB}?x=${'a'.repeat(n)}`;
  const FUZZ: [label: string, clientId: string, redirectUri: string][] = [
    ['trailing slash added', 'rekenapp', `${REKEN_CB}/`],
    ['trailing slash removed', 'queryapp', SLASH_CB.slice(0, -1)],
    ['path removed', 'rekenapp', 'https://rekenapp.example/'],
    ['scheme in upper case', 'rekenapp', 'HTTPS://rekenapp.example/cb'],
    ['host in upper case', 'rekenapp', 'https://REKENAPP.EXAMPLE/cb'],
    ['path in upper case', 'rekenapp', 'https://rekenapp.example/CB'],
    ['explicit default port :443', 'rekenapp', 'https://rekenapp.example:443/cb'],
    ['other port', 'rekenapp', 'https://rekenapp.example:8443/cb'],
    ['http downgrade', 'rekenapp', 'http://rekenapp.example/cb'],
    ['extra query parameter', 'rekenapp', `${REKEN_CB}?x=1`],
    ['empty query', 'rekenapp', `${REKEN_CB}?`],
    ['registered query: parameter missing', 'queryapp', 'https://queryapp.example/cb?tenant=a'],
    ['registered query: parameters reordered', 'queryapp', 'https://queryapp.example/cb?lang=nl&tenant=a'],
    ['registered query: extra parameter', 'queryapp', `${QUERY_CB}&x=1`],
    ['registered query: parameter duplicated', 'queryapp', 'https://queryapp.example/cb?tenant=a&tenant=a&lang=nl'],
    ['registered query: query dropped', 'queryapp', 'https://queryapp.example/cb'],
    ['registered query: value percent-encoded', 'queryapp', 'https://queryapp.example/cb?tenant=%61&lang=nl'],
    ['registered query: trailing ampersand', 'queryapp', `${QUERY_CB}&`],
    ['fragment', 'rekenapp', `${REKEN_CB}#x`],
    ['empty fragment', 'rekenapp', `${REKEN_CB}#`],
    ['percent-encoded path', 'rekenapp', 'https://rekenapp.example/%63%62'],
    ['percent-encoded slash before the path', 'rekenapp', 'https://rekenapp.example%2Fcb'],
    ['whole URI percent-encoded (double encoding)', 'rekenapp', 'https%3A%2F%2Frekenapp.example%2Fcb'],
    ['double-encoded path character', 'rekenapp', 'https://rekenapp.example/%2563b'],
    ['lower-case percent-encoding of a registered escape', 'queryapp', 'https://queryapp.example/caf%c3%a9'],
    ['path traversal out of the callback', 'rekenapp', `${REKEN_CB}/../x`],
    ['path traversal that normalises to the callback', 'rekenapp', 'https://rekenapp.example/x/../cb'],
    ['encoded traversal ..%2F', 'rekenapp', `${REKEN_CB}/..%2Fx`],
    ['encoded dots %2e%2e', 'rekenapp', `${REKEN_CB}/%2e%2e/x`],
    ['dot segment', 'rekenapp', 'https://rekenapp.example/./cb'],
    ['path prefix match', 'rekenapp', `${REKEN_CB}x`],
    ['path below the callback', 'rekenapp', `${REKEN_CB}/x`],
    ['path parameter', 'rekenapp', `${REKEN_CB};x=1`],
    ['userinfo trick to another host', 'rekenapp', 'https://rekenapp.example@evil.example/cb'],
    ['userinfo before the right host', 'rekenapp', 'https://evil.example@rekenapp.example/cb'],
    ['host suffix trick', 'rekenapp', 'https://rekenapp.example.evil.example/cb'],
    ['host prefix trick', 'rekenapp', 'https://evilrekenapp.example/cb'],
    ['subdomain', 'rekenapp', 'https://www.rekenapp.example/cb'],
    ['trailing dot on the host', 'rekenapp', 'https://rekenapp.example./cb'],
    ['backslash userinfo trick', 'rekenapp', 'https://rekenapp.example\\@evil.example/cb'],
    ['backslash as path separator', 'rekenapp', 'https://rekenapp.example\\cb'],
    ['scheme-relative to the right host', 'rekenapp', '//rekenapp.example/cb'],
    ['scheme-relative to another host', 'rekenapp', '//evil.example'],
    ['javascript: scheme', 'rekenapp', 'javascript:alert(document.domain)//https://rekenapp.example/cb'],
    ['data: scheme with a script', 'rekenapp', 'data:text/html,<script>alert(1)</script>'],
    ['IDN look-alike host (Cyrillic e)', 'rekenapp', 'https://r\u0435kenapp.example/cb'],
    ['punycode of the look-alike host', 'rekenapp', `https://${domainToASCII('r\u0435kenapp.example')}/cb`],
    ['leading space', 'rekenapp', ` ${REKEN_CB}`],
    ['trailing space', 'rekenapp', `${REKEN_CB} `],
    ['tab inside', 'rekenapp', 'https://rekenapp.example/\tcb'],
    ['CR/LF header injection', 'rekenapp', `${REKEN_CB}\r\nLocation: https://evil.example/`],
    ['trailing LF', 'rekenapp', `${REKEN_CB}\n`],
    ['trailing NUL byte', 'rekenapp', `${REKEN_CB}\0`],
    ['NUL byte in the host', 'rekenapp', 'https://rekenapp.example\0.evil.example/cb'],
    ['fullwidth path letters (NFKC look-alike)', 'rekenapp', 'https://rekenapp.example/\uFF43\uFF42'],
    ['combining mark after the path', 'rekenapp', `${REKEN_CB}\u0301`],
    ['non-ASCII path unencoded (NFC)', 'queryapp', 'https://queryapp.example/caf\u00e9'],
    ['non-ASCII path in NFD, encoded', 'queryapp', 'https://queryapp.example/cafe%CC%81'],
    ['2049+ characters', 'rekenapp', long(2049)],
    ['8193+ characters', 'rekenapp', long(8193)],
    ["another client's registered URI", 'rekenapp', LEES_CB],
    ["the registered URI of another client's host", 'queryapp', REKEN_CB],
  ];

  it('has at least 30 variants', () => {
    expect(FUZZ.length).toBeGreaterThanOrEqual(30);
  });

  it.each(FUZZ)('refuses %s with the unknown-client page, no Location, nothing stored', async (_label, clientId, redirectUri) => {
    const outcome = await authorize(entries({ client_id: clientId, redirect_uri: redirectUri }));
    expectPage(outcome, 'unknown_client_or_redirect_uri');
    // The page is fixed text: it cannot echo the URI (e.g. a <script> in a data: URI).
    expect(outcome.body).toBe(unknownClientPage.body);
  });

  it('accepts each registered URI byte for byte (the fuzz set is not refused for another reason)', async () => {
    for (const [clientId, redirectUri] of [['rekenapp', REKEN_CB], ['rekenapp', 'https://rekenapp.example/cb2'], ['queryapp', QUERY_CB], ['queryapp', SLASH_CB], ['queryapp', CAFE_CB]] as const) {
      await expectSchoolLogin(await authorize(entries({ client_id: clientId, redirect_uri: redirectUri })));
    }
  });

  it.each<[string, Entries]>([
    ['the same URI twice', entries({}, [['redirect_uri', REKEN_CB]])],
    ['two registered URIs', entries({}, [['redirect_uri', 'https://rekenapp.example/cb2']])],
    ['a registered and an evil URI', entries({}, [['redirect_uri', 'https://evil.example/cb']])],
  ])('refuses redirect_uri sent twice in the query (%s) with the page', async (_label, params) => {
    expectPage(await authorize(params), 'unknown_client_or_redirect_uri');
  });

  it('refuses redirect_uri sent in both the query and the form body with the page', async () => {
    const outcome = await authorizePost(entries(), [['redirect_uri', 'https://evil.example/cb']]);
    expectPage(outcome, 'unknown_client_or_redirect_uri');
  });
});

describe('errors after client and redirect URI are verified: 303 with error, state and iss (cases 4-8, 11-13)', () => {
  it('answers a missing response_type with invalid_request (case 4)', async () => {
    expectErrorRedirect(await authorize(entries({ response_type: undefined })), 'invalid_request');
    expectErrorRedirect(await authorize(entries({ response_type: '' })), 'invalid_request');
  });

  it('leaves state out of the error when none was sent', async () => {
    expectErrorRedirect(await authorize(entries({ response_type: undefined, state: undefined })), 'invalid_request', { state: null });
  });

  it('round-trips a state that needs escaping exactly, as one parameter', async () => {
    const state = 'a b&c=d+e%20f?g#h/"\'<>\\é';
    const params = expectErrorRedirect(await authorize(entries({ response_type: undefined, state })), 'invalid_request', { state });
    expect(params.getAll('state')).toEqual([state]);
  });

  it('keeps the registered query of the redirect URI when it adds the error', async () => {
    const params = expectErrorRedirect(
      await authorize(entries({ client_id: 'queryapp', redirect_uri: QUERY_CB, response_type: 'token' })),
      'unsupported_response_type',
      { redirectUri: QUERY_CB },
    );
    expect(params.get('tenant')).toBe('a');
    expect(params.get('lang')).toBe('nl');
  });

  it.each(['token', 'id_token', 'code id_token', 'code token', 'id_token token', 'none', 'CODE', 'code code', 'code '])(
    'answers response_type=%j with unsupported_response_type (case 5)',
    async (responseType) => {
      expectErrorRedirect(await authorize(entries({ response_type: responseType })), 'unsupported_response_type');
    },
  );

  it.each<[string, string | undefined]>([
    ['missing', undefined],
    ['empty', ''],
    ['profile only', 'profile'],
    ['OPENID in upper case', 'OPENID'],
    ['openid as a prefix', 'openidx'],
    ['openid joined by a comma', 'openid,profile'],
    ['openid joined by a plus sign', 'openid+profile'],
  ])('answers scope %s with invalid_scope (case 6)', async (_label, scope) => {
    expectErrorRedirect(await authorize(entries({ scope })), 'invalid_scope');
  });

  it.each<[string, Record<string, string | undefined>]>([
    ['no code_challenge', { code_challenge: undefined }],
    ['no code_challenge and no method', { code_challenge: undefined, code_challenge_method: undefined }],
    ['code_challenge_method missing', { code_challenge_method: undefined }],
    ['code_challenge_method plain', { code_challenge_method: 'plain' }],
    ['code_challenge_method in lower case', { code_challenge_method: 's256' }],
    ['method S256 with no challenge', { code_challenge: undefined, code_challenge_method: 'S256' }],
    ['challenge of 42 characters', { code_challenge: CHALLENGE.slice(0, 42) }],
    ['challenge of 44 characters', { code_challenge: `${CHALLENGE}A` }],
    ['challenge with padding', { code_challenge: `${CHALLENGE.slice(0, 42)}=` }],
    ['challenge in base64 (not url-safe)', { code_challenge: `${CHALLENGE.slice(0, 41)}+/` }],
    ['challenge of 128 characters (a plain verifier)', { code_challenge: 'a'.repeat(128) }],
  ])('answers %s with invalid_request (case 7)', async (_label, overrides) => {
    expectErrorRedirect(await authorize(entries(overrides)), 'invalid_request');
  });

  it.each(['response_type', 'scope', 'nonce', 'code_challenge', 'code_challenge_method', 'school_hint', 'prompt', 'max_age', 'response_mode'])(
    'answers %s repeated in the query with invalid_request (case 8)',
    async (name) => {
      const value = entries({ prompt: 'login', max_age: '600', response_mode: 'query' }).find(([k]) => k === name)![1];
      const outcome = await authorize(entries({ prompt: 'login', max_age: '600', response_mode: 'query' }, [[name, value]]));
      expectErrorRedirect(outcome, 'invalid_request');
    },
  );

  it('answers state repeated in the query with invalid_request and echoes neither value', async () => {
    const outcome = await authorize(entries({}, [['state', 'second-state']]));
    const params = expectErrorRedirect(outcome, 'invalid_request', { state: null });
    expect(outcome.res.headers.get('location')).not.toContain('second-state');
    expect(params.has('state')).toBe(false);
  });

  it.each<[string, Entries]>([
    ['the same value twice', entries({}, [['client_id', 'rekenapp']])],
    ['a second, other client', entries({}, [['client_id', 'leesapp']])],
  ])('answers client_id repeated in the query (%s) with the page, not a redirect', async (_label, params) => {
    expectPage(await authorize(params), 'unknown_client_or_redirect_uri');
  });

  it('answers a parameter sent in both the query and the form body with invalid_request (case 8)', async () => {
    const outcome = await authorizePost(entries(), [['scope', 'openid']]);
    expectErrorRedirect(outcome, 'invalid_request');
  });

  it.each<[string, Record<string, string>, string]>([
    ['request', { request: 'eyJhbGciOiJub25lIn0.e30.' }, 'request_not_supported'],
    ['request_uri', { request_uri: 'https://evil.example/request.jwt' }, 'request_uri_not_supported'],
    ['request_uri as a PAR reference', { request_uri: 'urn:ietf:params:oauth:request_uri:abc' }, 'request_uri_not_supported'],
  ])('answers a %s parameter with its _not_supported error (case 11)', async (_label, extra, error) => {
    expectErrorRedirect(await authorize(entries(extra)), error);
  });

  it('answers prompt=none with login_required: there is no gateway session (case 12)', async () => {
    expectErrorRedirect(await authorize(entries({ prompt: 'none' })), 'login_required');
  });

  it('answers prompt=none combined with another prompt with invalid_request', async () => {
    expectErrorRedirect(await authorize(entries({ prompt: 'none login' })), 'invalid_request');
  });

  it.each(['fragment', 'form_post', 'QUERY', 'query.jwt'])('answers response_mode=%s with invalid_request', async (mode) => {
    expectErrorRedirect(await authorize(entries({ response_mode: mode })), 'invalid_request');
  });

  it.each(['-1', 'abc', '1.5', '1e3', '9999999999'])('answers max_age=%s with invalid_request', async (maxAge) => {
    expectErrorRedirect(await authorize(entries({ max_age: maxAge })), 'invalid_request');
  });

  it('never echoes attacker input in an error redirect or its description (case 13)', async () => {
    const marker = '<script>alert("pwn-7f3a")</script>';
    const echoed = /pwn-7f3a|<script|%3Cscript/i;
    const attempts: [Record<string, string | undefined>, string][] = [
      [{ response_type: marker }, 'unsupported_response_type'],
      [{ scope: marker }, 'invalid_scope'],
      [{ code_challenge: marker }, 'invalid_request'],
      [{ code_challenge_method: marker }, 'invalid_request'],
      [{ nonce: `${marker}${'n'.repeat(600)}` }, 'invalid_request'],
      [{ prompt: `none ${marker}` }, 'invalid_request'],
      [{ max_age: marker }, 'invalid_request'],
      [{ response_mode: marker }, 'invalid_request'],
      [{ request: marker }, 'request_not_supported'],
    ];
    for (const [overrides, error] of attempts) {
      const outcome = await authorize(entries(overrides));
      const params = expectErrorRedirect(outcome, error);
      const location = outcome.res.headers.get('location')!;
      expect(location).not.toMatch(echoed);
      expect(params.get('error_description') ?? '').not.toMatch(echoed);
      expect(outcome.logs.join('\n')).not.toMatch(echoed);
    }
  });
});

describe('state and nonce length (case 9)', () => {
  it('answers a nonce of 513 characters with invalid_request', async () => {
    expectErrorRedirect(await authorize(entries({ nonce: 'n'.repeat(513) })), 'invalid_request');
  });

  it('answers a state of 513 characters with an invalid_request page: too long to send back', async () => {
    const outcome = await authorize(entries({ state: 's'.repeat(513) }));
    expectPage(outcome, 'invalid_request');
    expect(outcome.body).not.toContain('s'.repeat(64));
  });

  it('completes a login with a 512-character state and a 384-character nonce, both round-tripped exactly', async () => {
    const verifier = randomBytes(32).toString('base64url');
    const pattern = 'Ab9-._~ +/=&?%#';
    const state = pattern.repeat(40).slice(0, 512);
    const nonce = pattern.split('').reverse().join('').repeat(30).slice(0, 384);
    expect([state.length, nonce.length]).toEqual([512, 384]);
    const code_challenge = createHash('sha256').update(verifier).digest('base64url');
    const login = await expectSchoolLogin(await authorize(entries({ state, nonce, code_challenge })));
    const back = await postAssertion({ returnTo: login.return_to, cookie: login.cookie }, await world.regenboog.assertion(PUPIL, { nonce: login.nonce, aud: gateway.url }));
    expect(back.status).toBe(303);
    const callback = new URL(back.headers.get('location')!);
    expect(callback.searchParams.getAll('state')).toEqual([state]);
    // openid-client checks state and the id_token's nonce against the expected values.
    const tokens = await reken.finishLogin(callback, { verifier, state, nonce });
    expect(tokens.claims()?.nonce).toBe(nonce);
  });
});

describe('what succeeds (cases 10, POST)', () => {
  it('sends the browser to the school with a signed login request for a correct GET', async () => {
    const payload = await expectSchoolLogin(await authorize(entries()));
    expect(payload.aud).toBe(world.regenboog.issuer);
    expect(payload.iss).toBe(gateway.url);
    expect(payload.nonce).not.toBe(NONCE);
  });

  it('ignores an unknown parameter (extra=foobar)', async () => {
    await expectSchoolLogin(await authorize(entries({ extra: 'foobar' })));
  });

  it.each(['profile openid', 'email openid profile', 'openid  profile'])('accepts scope %j: order and unknown values do not matter', async (scope) => {
    await expectSchoolLogin(await authorize(entries({ scope })));
  });

  it.each(['login', 'consent', 'select_account'])('accepts prompt=%s: every login goes to the school anyway', async (prompt) => {
    await expectSchoolLogin(await authorize(entries({ prompt })));
  });

  it('accepts response_mode=query and a numeric max_age', async () => {
    await expectSchoolLogin(await authorize(entries({ response_mode: 'query', max_age: '0' })));
  });

  it('accepts a request without nonce and without state', async () => {
    await expectSchoolLogin(await authorize(entries({ nonce: undefined, state: undefined })));
  });

  it('sends the browser to the hinted school', async () => {
    await expectSchoolLogin(await authorize(entries({ client_id: 'taalapp', redirect_uri: 'https://taalapp.example/callback', school_hint: '34CD01' })), world.klimop);
  });

  it('answers POST /authorize with a form body like GET', async () => {
    await expectSchoolLogin(await authorizePost(entries()));
  });

  it('answers POST /authorize errors like GET: page before the redirect URI is verified, redirect after', async () => {
    expectPage(await authorizePost(entries({ redirect_uri: 'https://evil.example/cb' })), 'unknown_client_or_redirect_uri');
    expectPage(await authorizePost(entries({}, [['client_id', 'rekenapp']])), 'unknown_client_or_redirect_uri');
    expectErrorRedirect(await authorizePost(entries({ code_challenge: undefined })), 'invalid_request');
    expectErrorRedirect(await authorizePost(entries({}, [['nonce', 'x']])), 'invalid_request');
  });

  it('does not take a JSON body as the request: the client is unknown, a page', async () => {
    const outcome = await send(() =>
      fetch(new URL('/authorize', gateway.url), {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(Object.fromEntries(entries())),
      }),
    );
    expectPage(outcome, 'unknown_client_or_redirect_uri');
  });
});

describe('school_hint (two schools registered)', () => {
  it.each<[string, string | undefined]>([
    ['missing', undefined],
    ['empty', ''],
  ])('answers school_hint %s with the school picker: the request parked for 300 s, nothing else stored', async (_label, hint) => {
    const outcome = await authorize(entries({ school_hint: hint }));
    expect(outcome.res.status).toBe(303);
    const location = new URL(outcome.res.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(`${gateway.url}/school/select`);
    expect(location.searchParams.get('login')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(outcome.added).toEqual([expect.stringMatching(/^pick:/)]);
  });

  it.each<[string, string | undefined]>([
    ['an unregistered school', '99ZZ'],
    ['an unregistered location of a registered school', '12AB01'],
    ['lower case', '12ab'],
    ['malformed', '12AB0'],
    ['with whitespace', ' 12AB'],
    ['a script', '<script>alert(1)</script>'],
  ])('answers school_hint %s with the page school_required, nothing stored', async (_label, hint) => {
    const outcome = await authorize(entries({ school_hint: hint }));
    expectPage(outcome, 'school_required');
    expect(outcome.body).not.toMatch(/<script|alert\(|99ZZ|12ab/);
  });

  it('answers school_hint repeated with invalid_request', async () => {
    expectErrorRedirect(await authorize(entries({}, [['school_hint', '34CD01']])), 'invalid_request');
  });
});

describe('a world with one school', () => {
  let single: TestGateway;

  beforeAll(async () => {
    const seed = {
      ...world.seed,
      schools: [world.regenboog.registration()],
      licences: (world.seed.licences as { school: string }[]).filter((l) => l.school === world.regenboog.id),
    };
    single = await startGateway({ seed });
  });
  afterAll(async () => {
    await single?.close();
  });

  it('needs no school_hint: the only school is chosen', async () => {
    await expectSchoolLogin(await authorize(entries({ school_hint: undefined }), single), world.regenboog, single);
  });

  it('still refuses a hint for a school it does not know', async () => {
    const outcome = await authorize(entries({ school_hint: world.klimop.id }), single);
    expect(outcome.res.status).toBe(400);
    expect(outcome.res.headers.get('location')).toBeNull();
    expect(codeOf(outcome.body)).toBe('school_required');
    expect(outcome.added).toEqual([]);
  });
});

describe('security headers', () => {
  it('sets the framing, referrer and sniffing headers on the error page', () => {
    expectSecurityHeaders(unknownClientPage.res);
    expect(unknownClientPage.res.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
  });

  it('sets them on redirects too, and sends no CORS headers for any Origin', async () => {
    const outcome = await send(() => fetch(authorizeUrl(entries()), { redirect: 'manual', headers: { origin: 'https://evil.example' } }));
    await expectSchoolLogin(outcome);
    expectSecurityHeaders(outcome.res);
    expect(outcome.res.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('methods (RFC 9110 section 15.5.6)', () => {
  it.each([
    ['PUT', '/authorize', 'GET, POST'],
    ['DELETE', '/token', 'POST'],
    ['PATCH', '/userinfo', 'GET, POST'],
    ['GET', '/school/assertion', 'POST'],
    ['POST', '/jwks.json', 'GET'],
  ])('%s %s -> 405 with Allow: %s, no stack trace', async (method, path, allow) => {
    const gateway = await startGateway({ seed: (await makeWorld()).seed });
    try {
      const res = await fetch(`${gateway.url}${path}`, { method, redirect: 'manual' });
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe(allow);
      expect(await res.json()).toEqual({ error: 'method_not_allowed', error_description: 'Method not allowed' });
    } finally {
      await gateway.close();
    }
  });
});
