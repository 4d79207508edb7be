import { z } from 'zod';
import { pupilKey } from '../release/pupil.js';
import { SCHOOL_ID, SLUG } from '../store/seed-schema.js';

// Shapes shared by the admin routes: path parameters, pagination, problems.

export const schoolIdParam = z.string().regex(SCHOOL_ID, 'must be a BRIN with an optional 2-digit location, e.g. 12AB or 12AB01');
export const slugParam = z.string().regex(SLUG, 'must be a slug: a-z, 0-9 and -, 2 to 63 characters');

/** limit/offset over a stable order (each list names its order). */
export const pageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});

export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), total: z.number().int(), limit: z.number().int(), offset: z.number().int() });

export const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  errors: z.array(z.object({ field: z.string(), detail: z.string() })).optional(),
});

/** The problem responses every authenticated route may give. */
export const problems = {
  400: problemSchema,
  401: problemSchema,
  403: problemSchema,
  404: problemSchema,
  409: problemSchema,
  422: problemSchema,
  429: problemSchema,
  503: problemSchema,
} as const;

export const timestamps = { createdAt: z.string(), updatedAt: z.string() };

/** A pupil named by the school's key: in a request body only, never in a URL (it must not reach logs). */
export const pupilFields = { studentKey: pupilKey };
