// Every key the gateway keeps in the KV (Redis, or memory for one process),
// in one table: its prefix, the module that owns it, how long it lives and
// what it holds. docs/redis-keys.md is this table for operators; a test holds
// the two together. In Redis every key also carries REDIS_KEY_PREFIX
// (default `pgw:`). No key and no value holds a pupil's key, name or other
// attribute in clear: personal values are sealed under a key only their
// bearer has, and ids are hashes.

export interface KvKeyKind {
  readonly prefix: string;
  readonly owner: string;
  readonly ttl: string;
  readonly holds: string;
}

export const KV_KEYS = {
  pickSchool: {
    prefix: 'pick:', owner: 'src/login/pending.ts', ttl: '300 s',
    holds: 'a verified authorization request waiting while the pupil picks a school; key: SHA-256 of the picker handle',
  },
  atSchool: {
    prefix: 'txn:', owner: 'src/login/pending.ts', ttl: '300 s',
    holds: 'a pending login waiting for the school\'s answer, bound to the browser that started it; key: SHA-256 of the login id (the nonce, state or request ID sent to the school)',
  },
  assertionJti: {
    prefix: 'ajti:', owner: 'src/store/replay.ts', ttl: 'until the assertion\'s exp + 30 s',
    holds: 'a school assertion\'s jti, claimed once (SET NX); key: SHA-256 of issuer and jti',
  },
  samlAssertionId: {
    prefix: 'sjti:', owner: 'src/store/replay.ts', ttl: 'until the assertion\'s last NotOnOrAfter + 60 s',
    holds: 'a SAML assertion\'s ID, claimed once (SET NX); key: SHA-256 of the identity provider\'s entity id and the assertion ID',
  },
  clientAssertionJti: {
    prefix: 'cjti:', owner: 'src/store/replay.ts', ttl: 'until the client assertion\'s exp + 30 s',
    holds: 'a client assertion\'s jti, claimed once (SET NX); key: SHA-256 of client_id and jti',
  },
  code: {
    prefix: 'code:', owner: 'src/login/code.ts', ttl: '60 s; once redeemed, a marker for 10 min',
    holds: 'the grant of an authorization code, sealed under the code (from an assertion\'s answer: the release and the login id, then the pending login as it was parked); after redemption the hash of the access token it issued',
  },
  accessToken: {
    prefix: 'at:', owner: 'src/oidc/access-token.ts', ttl: '300 s',
    holds: 'what /userinfo answers for an access token: the code it was issued for, sealed under the token, then the code\'s record as redeemed; or a revocation tombstone',
  },
  session: {
    prefix: 'sess:', owner: 'src/session/session.ts', ttl: 'SESSION_IDLE_SECONDS, renewed on use, never past SESSION_MAX_SECONDS',
    holds: 'the SSO session (the school login), sealed under the session cookie; key: SHA-256 of the cookie',
  },
  root: {
    prefix: 'root:', owner: 'src/crypto/root-cache.ts', ttl: '`ROOT_CACHE_TTL_DAYS` after the pupil\'s last login (sliding)',
    holds: 'a pupil\'s pseudonym root (scrypt output); key: HMAC(k_cache, school "\\0" pupil key). Secret material: see docs/pseudonyms.md',
  },
  ledgerMarker: {
    prefix: 'disc:', owner: 'src/privacy/ledger.ts', ttl: '26 h',
    holds: '"this disclosure row is durable today"; key: student ref, client, claim names and day',
  },
  resolutionJob: {
    prefix: 'resjob:', owner: 'src/privacy/job-store.ts', ttl: 'RESOLUTION_JOB_TTL_SECONDS',
    holds: 'a pupil job\'s state (resolution or breach scope) and (under resjob:<id>:result) its result: pseudonyms, or affected pupils by position; never a pupil key or student ref',
  },
  rateLimit: {
    prefix: 'rl:', owner: 'src/ops/rate-limit.ts', ttl: 'the limit\'s window (60 s)',
    holds: 'a request counter per limit and key (client, issuer, or client address)',
  },
} as const satisfies Record<string, KvKeyKind>;

export type KvKeyName = keyof typeof KV_KEYS;

/** The KV key of one entry of a kind. */
export const kvKey = (kind: KvKeyName, id: string): string => KV_KEYS[kind].prefix + id;
