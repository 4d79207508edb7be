// What is wrong with a roster file (docs/roster.md, "Bad rows"): every bad row,
// by file, 1-based line (XML, CSV) or index (JSON), field and reason. A reason
// never repeats a value from the file: the answer and the import record hold
// no pupil data.

export interface RowProblem {
  /** `body` for a JSON or XML body, else the file's name in the zip. */
  file: string;
  line?: number;
  index?: number;
  field: string;
  detail: string;
}

/** More than this many problems are counted, not listed: a wholly wrong file must not make a huge answer. */
export const MAX_LISTED_PROBLEMS = 10_000;

export class ProblemList {
  readonly items: RowProblem[] = [];
  count = 0;

  add(problem: RowProblem): void {
    this.count++;
    if (this.items.length < MAX_LISTED_PROBLEMS) this.items.push(problem);
  }

  get empty(): boolean {
    return this.count === 0;
  }
}

/** The roster was refused: nothing was written. */
export class RosterRefused extends Error {
  constructor(
    readonly problems: readonly RowProblem[],
    readonly problemCount: number,
  ) {
    super(`roster refused: ${problemCount} problem(s)`);
    this.name = 'RosterRefused';
  }

  static of(list: ProblemList): RosterRefused {
    return new RosterRefused(list.items, list.count);
  }
}

/** A problem with the whole file (its shape, its school), not with one row. */
export const fileProblem = (file: string, field: string, detail: string): RosterRefused => new RosterRefused([{ file, field, detail }], 1);

/** Let the event loop serve logins between slices of a long import. */
export const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
