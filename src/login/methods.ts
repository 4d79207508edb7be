import type { LoginKind, School } from '../store/registry.js';

// The ways a school's people log in (docs/school-login.md). Each is an edge
// of its own (src/school/ for the gateway's assertion); the journey reaches
// it only through this interface, built in src/services.ts.

export interface LoginBegun {
  /** Where the browser goes to log in at the school. */
  readonly location: string;
  /** What the method needs back with the school's answer, parked with the pending login. */
  readonly keep?: Readonly<Record<string, string>>;
}

export interface LoginMethod {
  /**
   * Send the pupil to log in at `school`. `loginId` is what the school's
   * answer must carry back (the login request's nonce, an upstream state, a
   * request ID): it names the pending login the answer completes.
   */
  begin(school: School, loginId: string): Promise<LoginBegun> | LoginBegun;
}

export type LoginMethods = { readonly [K in LoginKind]: LoginMethod };
