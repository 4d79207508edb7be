import { randomUUID } from 'node:crypto';
import { createLocalJWKSet, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { testKey, type TestKey } from './keys.js';

export interface PupilClaims {
  sub: string;
  role?: 'student' | 'teacher';
  given_name?: string;
  family_name?: string;
  tussenvoegsel?: string;
  birthdate?: string;
  gender?: string;
  groups?: { key: string; name: string; grade?: number }[];
  grade?: number;
}

/**
 * A school identity provider for tests: it verifies the gateway's signed login
 * request like a real school would and signs assertions with its own key.
 */
export class TestSchool {
  private constructor(
    readonly id: string,
    readonly issuer: string,
    readonly key: TestKey,
  ) {}

  static async create(id: string, issuer = `https://idp-${id.toLowerCase()}.school.example`, alg = 'ES256'): Promise<TestSchool> {
    return new TestSchool(id, issuer, await testKey(alg));
  }

  get loginUrl(): string {
    return `${this.issuer}/login`;
  }

  get jwks() {
    return { keys: [this.key.publicJwk] };
  }

  registration(extra: Record<string, unknown> = {}) {
    return { id: this.id, name: `School ${this.id}`, issuer: this.issuer, loginUrl: this.loginUrl, jwks: this.jwks, ...extra };
  }

  /** Read and verify the gateway's login request from the redirect the browser got. */
  async readLoginRequest(location: string, gatewayJwks: { keys: object[] }, gatewayIssuer: string) {
    const url = new URL(location);
    if (`${url.origin}${url.pathname}` !== this.loginUrl) throw new Error(`redirected to ${url.origin}${url.pathname}, not the school`);
    const request = url.searchParams.get('request');
    if (!request) throw new Error('no request parameter');
    const { payload, protectedHeader } = await jwtVerify(request, createLocalJWKSet(gatewayJwks as never), {
      issuer: gatewayIssuer,
      audience: this.issuer,
      typ: 'school-login-request+jwt',
    });
    return { payload: payload as JWTPayload & { nonce: string; return_to: string }, header: protectedHeader };
  }

  /** A signed assertion; `claims` and `header` override the defaults, `undefined` values remove a claim. */
  async assertion(
    pupil: PupilClaims,
    opts: { nonce?: string; aud: string; claims?: Record<string, unknown>; header?: Record<string, unknown>; key?: TestKey; school?: string; now?: number },
  ): Promise<string> {
    const now = Math.floor((opts.now ?? Date.now()) / 1000);
    const claims: Record<string, unknown> = {
      iss: this.issuer,
      aud: opts.aud,
      iat: now,
      exp: now + 120,
      jti: randomUUID(),
      school: opts.school ?? this.id,
      role: 'student',
      ...pupil,
      ...(opts.nonce === undefined ? {} : { nonce: opts.nonce }),
      ...opts.claims,
    };
    for (const [k, v] of Object.entries(claims)) if (v === undefined) delete claims[k];
    const key = opts.key ?? this.key;
    const header = { alg: key.alg, kid: key.kid, typ: 'school-assertion+jwt', ...opts.header };
    for (const [k, v] of Object.entries(header)) if (v === undefined) delete (header as Record<string, unknown>)[k];
    return new SignJWT(claims).setProtectedHeader(header).sign(key.privateKey);
  }
}
