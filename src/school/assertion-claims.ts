import { z } from 'zod';
import { pupilKey } from '../release/pupil.js';
import { SCHOOL_ID, SLUG } from '../store/seed-schema.js';

// The claims of a school login assertion (docs/school-assertion.md). Unknown claims
// are dropped; a known claim in the wrong shape refuses the whole assertion.

// Control characters, and lone surrogates (which UTF-8 would turn into U+FFFD, merging distinct keys).
const CONTROL = /[\p{Cc}\p{Cs}]/u;

export { pupilKey };

const text = (max: number) => z.string().min(1).max(max).refine((s) => !CONTROL.test(s), { message: 'no control characters' });
const grade = z.number().int().min(1).max(15);

export const assertionClaimsSchema = z
  .object({
    jti: z.string().min(1).max(256),
    sub: pupilKey,
    school: z.string().regex(SCHOOL_ID),
    role: z.enum(['student', 'teacher']),
    nonce: z.string().min(1).max(512).optional(),
    target: z.string().regex(SLUG).optional(),
    given_name: text(200).optional(),
    family_name: text(200).optional(),
    tussenvoegsel: text(50).optional(),
    birthdate: z.iso.date().optional(),
    gender: text(32).optional(),
    groups: z.array(z.object({ key: pupilKey, name: text(200), grade: grade.optional() })).max(50).default([]),
    grade: grade.optional(),
  })
  .refine((c) => (c.nonce === undefined) !== (c.target === undefined), {
    message: 'carries exactly one of nonce (gateway-started login) or target (school-started launch)',
  });

export type AssertionClaims = z.infer<typeof assertionClaimsSchema>;
