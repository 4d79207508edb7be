import type { Clock } from '../clock.js';
import type { KeySchedule } from '../crypto/key-schedule.js';
import type { Kv } from '../store/kv.js';
import type { School } from '../store/registry.js';
import type { LoginMethods } from './methods.js';
import { newLoginId } from './login-id.js';
import { parkAtSchool, parkForPicker, type PickingLogin } from './pending.js';

// The start of a login that the SSO session could not answer
// (docs/login-journey.md): to the school's login when the school is known, by
// the school's method; else to the school picker first.

/** The picker page (src/school/picker.ts serves it). */
export const PICKER_PATH = '/school/select';

export interface StartDeps {
  readonly issuer: string;
  readonly kv: Pick<Kv, 'set'>;
  readonly clock: Clock;
  readonly keys: Pick<KeySchedule, 'login'>;
  readonly methods: LoginMethods;
}

/**
 * Where the browser goes next: the school's login, or the picker when no
 * school is known yet. `browser` is the hash of the browser's login cookie
 * (src/login/pending.ts): only that browser can complete the login.
 */
export function beginLogin(deps: StartDeps, picking: PickingLogin, school: School | undefined): Promise<string> {
  return school === undefined ? sendToPicker(deps, picking) : sendToSchool(deps, school, picking);
}

/** Send the browser to the school's login, by the school's method; the pending login waits for the answer. */
export async function sendToSchool(deps: StartDeps, school: School, { authz, browser }: PickingLogin): Promise<string> {
  const loginId = newLoginId(deps.keys.login, { clientId: authz.clientId, school: school.id });
  const { location, keep } = await deps.methods[school.login.kind].begin(school, loginId);
  await parkAtSchool(deps.kv, loginId, { authz, browser, school: school.id, createdAt: deps.clock.now(), ...(keep ? { keep } : {}) });
  return location;
}

async function sendToPicker(deps: StartDeps, picking: PickingLogin): Promise<string> {
  return `${deps.issuer}${PICKER_PATH}?login=${await parkForPicker(deps.kv, picking)}`;
}
