import type { KeySchedule } from './key-schedule.js';
import { groupPseudonym, subjectPseudonym, type PupilRoot } from './pseudonym.js';
import type { Supplier } from '../store/registry.js';

export interface PupilPseudonyms {
  readonly sub: string;
  /** During a supplier's key rotation window: the pseudonym under the previous key version. */
  readonly previousSub?: string;
  readonly group: (groupKey: string) => string;
}

/** A pupil's pseudonyms at one supplier, from the pupil's root: HMACs only. */
export function pseudonymsAt(supplier: Supplier, school: string, root: PupilRoot, deps: { keys: KeySchedule; now: number }): PupilPseudonyms {
  const key = deps.keys.supplier(supplier.id, supplier.keyVersion);
  return {
    sub: subjectPseudonym(key, root),
    ...(inRotationWindow(supplier, deps.now) ? { previousSub: subjectPseudonym(deps.keys.supplier(supplier.id, supplier.previousKeyVersion!), root) } : {}),
    group: (groupKey) => groupPseudonym(key, school, groupKey),
  };
}

/** previous_sub is released while the supplier's rotation window is open (docs/key-rotation.md). */
export const inRotationWindow = (supplier: Supplier, now: number): boolean =>
  supplier.previousKeyVersion !== undefined && supplier.rotationUntil !== undefined && now < Date.parse(supplier.rotationUntil);
