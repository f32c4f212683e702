// Infeasibility explanation by deletion over constraint atoms.
//  - correction: a minimal set of atoms whose removal together makes a plan possible; removing all
//    but any one of them still leaves no plan (a minimal correction set). These are what to change.
//  - core: a minimal set of atoms that cannot all hold at once; dropping any one of them from the
//    core makes the core satisfiable (a minimal unsatisfiable subset). These are what conflicts.
// Relaxing an atom only ever widens the search (see problem.ts), which is what makes the deletion
// results minimal, and what lets deletion go by blocks: when a whole block of the atoms still to try
// can go at once, one by one each of them could too, so one check stands for the block and the
// result is the one atom-by-atom deletion gives. Which atoms hold is one flag per atom id (1: holds);
// atoms outside the list worked on keep their flags throughout.

import type { Atom } from './atoms.js';

/** Whether a plan exists when exactly the atoms whose flag (by atom id) is 1 hold. */
export type Feasible = (on: Uint8Array) => boolean;

/**
 * Sets each atom's flag to `to` in order, and back where `stays()` says the change cannot stay;
 * a block whose change can stay as a whole costs one check. `knownNotToStay`: the caller knows
 * that changing all the atoms at once cannot stay, which spares the first check.
 */
function deleteInBlocks(atoms: readonly Atom[], on: Uint8Array, to: 0 | 1, stays: () => boolean, knownNotToStay = false): void {
  const set = (from: number, until: number, value: number) => {
    for (let i = from; i < until; i++) on[atoms[i]!.id] = value;
  };
  /** Whether the whole block's change stayed. */
  const run = (from: number, until: number, known: boolean): boolean => {
    if (from >= until) return true;
    if (!known) {
      set(from, until, to);
      if (stays()) return true;
      set(from, until, 1 - to);
    }
    if (until - from === 1) return false;
    const middle = (from + until) >> 1;
    // When the whole first half's change stays, changing the second half too is the whole
    // block's change again, which is known not to stay.
    const first = run(from, middle, false);
    run(middle, until, first);
    return false;
  };
  run(0, atoms.length, knownNotToStay);
}

/** Atoms are tried in order; earlier atoms are kept (not blamed) when there is a choice. */
export function minimalCorrection(atoms: readonly Atom[], on: Uint8Array, feasible: Feasible): Atom[] {
  for (const a of atoms) on[a.id] = 0;
  if (!feasible(on)) return []; // unreachable when atoms cover every rule
  // Each atom is put back unless that leaves no plan; all of them back is the conflict itself.
  deleteInBlocks(atoms, on, 1, () => feasible(on), true);
  return atoms.filter((a) => on[a.id] === 0);
}

/**
 * A minimal conflicting subset. Atoms are dropped in keep order (hardware facts first, so a core
 * names them only when they matter); atoms in `prefer` are dropped last, so the core contains them.
 */
export function minimalCore(atoms: readonly Atom[], on: Uint8Array, feasible: Feasible, prefer: readonly Atom[] = []): Atom[] {
  // While the order is made, `on` marks the atoms of the list 3 and those of them preferred 2
  // (atoms outside the list keep their flags; nothing else to allocate); then all of them hold.
  for (const a of atoms) on[a.id] = 3;
  for (const a of prefer) if (on[a.id] === 3) on[a.id] = 2;
  const order: Atom[] = [];
  for (const a of atoms) if (on[a.id] === 3) order.push(a);
  for (const a of atoms) if (on[a.id] === 2) order.push(a);
  for (const a of atoms) on[a.id] = 1;
  // Each atom is dropped unless that makes a plan possible.
  deleteInBlocks(order, on, 0, () => !feasible(on));
  return atoms.filter((a) => on[a.id] === 1);
}
