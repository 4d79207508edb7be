import { z } from 'zod';

// Control characters, and lone surrogates (which UTF-8 would turn into U+FFFD, merging distinct keys).
const CONTROL = /[\p{Cc}\p{Cs}]/u;

/** Student and group keys, whatever the login method: 1..128 characters without control characters, NFC-normalised first. */
export const pupilKey = z
  .string()
  .transform((s) => s.normalize('NFC'))
  .refine((s) => [...s].length >= 1 && [...s].length <= 128 && !CONTROL.test(s), {
    message: 'must be 1..128 characters without control characters',
  });

/** What the school says about the person logging in (docs/school-assertion.md), whatever the login method. */
export interface Pupil {
  readonly school: string;
  /** The school's key for the pupil: never leaves the gateway, never logged. */
  readonly studentKey: string;
  readonly role: 'student' | 'teacher';
  readonly given_name?: string;
  readonly family_name?: string;
  readonly tussenvoegsel?: string;
  readonly birthdate?: string;
  readonly gender?: string;
  readonly groups: readonly { readonly key: string; readonly name: string; readonly grade?: number }[];
  readonly grade?: number;
}

/** The pupil's own grade (docs/openid-connect.md, Claims): the school's top-level grade, else the first group's. */
export const gradeOf = (pupil: Pupil): number | undefined => pupil.grade ?? pupil.groups[0]?.grade;
