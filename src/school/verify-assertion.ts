import { errors as joseErrors } from 'jose';
import { epochSeconds, type Clock } from '../clock.js';
import { decodeUntrusted, INBOUND_ALGS, typIs } from '../crypto/jws.js';
import { CLOCK_SKEW_S, checkTimes, JwsError, verifyJwsSignature } from '../crypto/verify-jws.js';
import { PageError, type AssertionRefusal } from '../errors.js';
import type { Pupil } from '../release/pupil.js';
import { KeysUnavailableError } from '../store/jwks-source.js';
import type { AssertionSchool, Registry } from '../store/registry.js';
import { assertionClaimsSchema, type AssertionClaims } from './assertion-claims.js';

// Verification of a school login assertion (docs/school-assertion.md), as one
// ordered list of checks. Each failure has its own stable code; none echoes
// the assertion. Replay and nonce binding need the KV and follow in the route.

export const ASSERTION_TYP = 'school-assertion+jwt';
export const MAX_LIFETIME_S = 300;

export interface AssertionContext {
  readonly registry: Pick<Registry, 'schoolsByIssuer'>;
  readonly issuer: string;
  readonly clock: Clock;
}

export interface VerifiedAssertion {
  readonly school: AssertionSchool;
  readonly pupil: Pupil;
  readonly claims: AssertionClaims;
  readonly exp: number;
  readonly iat: number;
}

const refuse = (why: AssertionRefusal) => new PageError(`assertion_${why}`, 400, 'The school login could not be verified');

export async function verifyAssertion(token: string, ctx: AssertionContext): Promise<VerifiedAssertion> {
  const decoded = decodeUntrusted(token);
  if (!decoded) throw refuse('malformed');
  checkHeader(decoded.header);
  const candidates = schoolsOfIssuer(decoded.payload, ctx);
  checkAudienceIsOneString(decoded.payload, ctx.issuer);
  // Signed with a key registered for the school the assertion names (docs/school-assertion.md).
  await checkSignature(token, decoded.header, candidates.find((s) => s.id === decoded.payload.school) ?? candidates[0]!);
  const { iat, exp } = checkLifetime(decoded.payload, ctx);
  const claims = parseClaims(decoded.payload);
  const school = checkSchoolBelongsToIssuer(claims.school, candidates);
  return { school, pupil: pupilOf(claims), claims, iat, exp };
}

function checkHeader(header: Record<string, unknown>): void {
  // RFC 8725 section 3.11: explicit typing, so no other token of the school's passes for an assertion.
  if (!typIs(header, ASSERTION_TYP)) throw refuse('wrong_type');
  if (typeof header.alg !== 'string' || !INBOUND_ALGS.includes(header.alg)) throw refuse('alg_not_allowed');
  if (typeof header.kid !== 'string' || header.kid.length < 1 || header.kid.length > 128) throw refuse('kid_invalid');
}

function schoolsOfIssuer(payload: Record<string, unknown>, ctx: AssertionContext): readonly AssertionSchool[] {
  const schools = typeof payload.iss === 'string' ? ctx.registry.schoolsByIssuer.get(payload.iss) : undefined;
  if (!schools?.length) throw refuse('unknown_issuer');
  return schools;
}

function checkAudienceIsOneString(payload: Record<string, unknown>, issuer: string): void {
  // A single string, never an array that merely contains us (docs/school-assertion.md).
  if (payload.aud !== issuer) throw refuse('wrong_audience');
}

async function checkSignature(token: string, header: Record<string, unknown>, school: AssertionSchool): Promise<void> {
  try {
    await verifyJwsSignature(token, header, school.login.keys);
  } catch (err) {
    throw mapVerifyError(err);
  }
}

function mapVerifyError(err: unknown): PageError {
  if (err instanceof JwsError) return refuse(err.reason === 'weak_key' ? 'key_unusable' : err.reason);
  if (err instanceof joseErrors.JWKSNoMatchingKey || err instanceof joseErrors.JWKSMultipleMatchingKeys) return refuse('unknown_key');
  // The school's JWKS endpoint did not answer usefully: not the pupil's fault, try again later.
  if (err instanceof KeysUnavailableError) return new PageError('school_unavailable', 503, 'The school login service cannot be reached');
  // Anything else is a registered key that cannot be used for this token.
  return refuse('key_unusable');
}

function checkLifetime(payload: Record<string, unknown>, ctx: AssertionContext): { iat: number; exp: number } {
  const times = checkTimes(payload, { now: epochSeconds(ctx.clock), skew: CLOCK_SKEW_S, maxLifetime: MAX_LIFETIME_S, requireIat: true });
  if (typeof times === 'string') throw refuse(times === 'invalid' ? 'claims_invalid' : times);
  return times;
}

function parseClaims(payload: Record<string, unknown>): AssertionClaims {
  const parsed = assertionClaimsSchema.safeParse(payload);
  if (!parsed.success) throw refuse('claims_invalid');
  return parsed.data;
}

function checkSchoolBelongsToIssuer(schoolId: string, candidates: readonly AssertionSchool[]): AssertionSchool {
  // ASVS 6.8.1: an IdP may speak only for the schools registered with it.
  const school = candidates.find((s) => s.id === schoolId);
  if (!school) throw refuse('school_mismatch');
  return school;
}

function pupilOf(c: AssertionClaims): Pupil {
  const optional = <K extends 'given_name' | 'family_name' | 'tussenvoegsel' | 'birthdate' | 'gender' | 'grade'>(k: K) =>
    c[k] === undefined ? {} : { [k]: c[k] };
  return {
    school: c.school,
    studentKey: c.sub,
    role: c.role,
    groups: c.groups.map((g) => (g.grade === undefined ? { key: g.key, name: g.name } : { key: g.key, name: g.name, grade: g.grade })),
    ...optional('given_name'),
    ...optional('family_name'),
    ...optional('tussenvoegsel'),
    ...optional('birthdate'),
    ...optional('gender'),
    ...optional('grade'),
  };
}
