import { z } from 'zod';
import { pupilKey } from '../release/pupil.js';

// A school's roster in a request body: the pupils' own keys (docs/school-assertion.md:
// 1..128 characters, NFC-normalised), up to a whole school.
// They travel in POST bodies only, never in a URL, and are never stored.

export const MAX_ROSTER = 50_000;
export const MAX_GROUP_KEYS = 5_000;

/**
 * The app-wide body limit is 64 KiB; roster routes take up to 8 MiB, enough for
 * 50,000 keys of 128 ASCII characters and 5,000 group keys as JSON. Admin
 * tokens are checked before the body is read.
 */
export const ROSTER_BODY_LIMIT = 8 * 1024 * 1024;

export const studentKeysSchema = z.array(pupilKey).min(1).max(MAX_ROSTER);
export const groupKeysSchema = z.array(pupilKey).max(MAX_GROUP_KEYS);
