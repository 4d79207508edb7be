import { z } from 'zod';
import { pupilKey } from '../release/pupil.js';
import { fileProblem, ProblemList } from './problems.js';
import type { Candidate } from './validate.js';

// The gateway's own JSON (docs/roster.md): a full sync is { "people": [ person… ] },
// a delta { "upsert": [ person… ], "remove": [ studentKey… ] }. Problems name
// the index and the dotted path, as the admin API's other validation errors do.

const FILE = 'body';

const candidatesOf = (list: readonly unknown[], name: string): Candidate[] =>
  list.map((input, index) => ({ where: { file: FILE, index }, fieldName: (path) => [name, index, ...path].map(String).join('.'), input }));

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function jsonFullCandidates(body: unknown): Candidate[] {
  if (!isRecord(body) || !Array.isArray(body.people)) throw fileProblem(FILE, 'people', 'must be an array of people');
  const extra = Object.keys(body).filter((k) => k !== 'people');
  if (extra.length) throw fileProblem(FILE, extra[0]!, 'unknown field');
  return candidatesOf(body.people, 'people');
}

export interface JsonDelta {
  upsert: Candidate[];
  remove: string[];
  /** Problems of the remove list (the upserts are checked with the people). */
  problems: ProblemList;
}

const deltaShape = z.strictObject({ upsert: z.array(z.unknown()).default([]), remove: z.array(z.unknown()).default([]) });

export function jsonDelta(body: unknown): JsonDelta {
  const shape = deltaShape.safeParse(body);
  if (!shape.success) throw fileProblem(FILE, shape.error.issues[0]!.path.map(String).join('.') || '(body)', shape.error.issues[0]!.message);
  const problems = new ProblemList();
  const remove: string[] = [];
  shape.data.remove.forEach((raw, index) => {
    const key = pupilKey.safeParse(raw);
    if (key.success) remove.push(key.data);
    else problems.add({ file: FILE, index, field: `remove.${index}`, detail: key.error.issues[0]!.message });
  });
  if (!shape.data.upsert.length && !shape.data.remove.length) throw fileProblem(FILE, '(body)', 'give people to upsert or keys to remove');
  return { upsert: candidatesOf(shape.data.upsert, 'upsert'), remove, problems };
}
