import type { KeySchedule } from './key-schedule.js';
import { groupPseudonym, pupilInput, subjectPseudonym } from './pseudonym.js';
import type { RootCache } from './root-cache.js';
import type { Supplier } from '../store/registry.js';

export interface PupilPseudonyms {
  readonly sub: string;
  /** During a supplier's key rotation window: the pseudonym under the previous key version. */
  readonly previousSub?: string;
  readonly group: (groupKey: string) => string;
}

/** A pupil's pseudonyms at one supplier: one cached root, then HMACs only. */
export async function pseudonymsAt(
  supplier: Supplier,
  pupil: { school: string; studentKey: string },
  deps: { keys: KeySchedule; roots: Pick<RootCache, 'rootFor'>; now: number },
  input: Buffer = pupilInput(pupil.school, pupil.studentKey),
): Promise<PupilPseudonyms> {
  const root = await deps.roots.rootFor(input);
  const key = deps.keys.supplier(supplier.id, supplier.keyVersion);
  return {
    sub: subjectPseudonym(key, root),
    ...(inRotationWindow(supplier, deps.now) ? { previousSub: subjectPseudonym(deps.keys.supplier(supplier.id, supplier.previousKeyVersion!), root) } : {}),
    group: (groupKey) => groupPseudonym(key, pupil.school, groupKey),
  };
}

/** previous_sub is released while the supplier's rotation window is open (docs/key-rotation.md). */
export const inRotationWindow = (supplier: Supplier, now: number): boolean =>
  supplier.previousKeyVersion !== undefined && supplier.rotationUntil !== undefined && now < Date.parse(supplier.rotationUntil);
