import type { RootSource } from '../crypto/bounded-roots.js';
import type { KeySchedule } from '../crypto/key-schedule.js';
import { pupilInput, pupilRefs, type PupilRefs, type PupilRoot } from '../crypto/pseudonym.js';
import type { RefTransition } from './ref-transition.js';

// A pupil's student ref, hex(HMAC(k_ref, "ref\0" || root)) (docs/pseudonyms.md):
// derived from the root, so wherever a key becomes a ref, its root is derived
// first. A login has the root at hand; the admin API derives it through the
// root cache, bounded (src/crypto/bounded-roots.ts).

/** At a login, once the root is at hand: the pupil's refs, its rows under the ref's first form moved to the ref. */
export async function refsAtLogin(
  deps: { keys: KeySchedule; refTransition: Pick<RefTransition, 'atLogin'> },
  school: string, input: Buffer, root: PupilRoot,
): Promise<PupilRefs> {
  const refs = pupilRefs(deps.keys, input, root);
  await deps.refTransition.atLogin(school, refs);
  return refs;
}

/** The admin API: a pupil key sent by the school becomes the pupil's refs (one root derivation). */
export async function refsOfKey(deps: { keys: KeySchedule; roots: RootSource }, school: string, studentKey: string): Promise<PupilRefs> {
  const input = pupilInput(school, studentKey);
  return pupilRefs(deps.keys, input, await deps.roots.rootFor(input));
}
