// Infeasibility explanation by deletion over constraint atoms.
//  - correction: a minimal set of atoms whose removal together makes a plan possible; removing all
//    but any one of them still leaves no plan (a minimal correction set). These are what to change.
//  - core: a minimal set of atoms that cannot all hold at once; dropping any one of them from the
//    core makes the core satisfiable (a minimal unsatisfiable subset). These are what conflicts.
// Both need one feasibility check per atom. Relaxing an atom only ever widens the search (see
// problem.ts), which is what makes the deletion results minimal.

import type { Atom } from './atoms.js';

export type Feasible = (active: (atom: Atom) => boolean) => boolean;

/** Atoms are tried in order; earlier atoms are kept (not blamed) when there is a choice. */
export function minimalCorrection(atoms: readonly Atom[], feasible: Feasible): Atom[] {
  const removed = new Set(atoms.map((a) => a.id));
  if (!feasible((a) => !removed.has(a.id))) return []; // unreachable when atoms cover every rule
  for (const atom of atoms) {
    removed.delete(atom.id);
    if (!feasible((a) => !removed.has(a.id))) removed.add(atom.id);
  }
  return atoms.filter((a) => removed.has(a.id));
}

/**
 * A minimal conflicting subset. Atoms are dropped in keep order (hardware facts first, so a core
 * names them only when they matter); atoms in `prefer` are dropped last, so the core contains them.
 */
export function minimalCore(atoms: readonly Atom[], feasible: Feasible, prefer: readonly Atom[] = []): Atom[] {
  const active = new Set(atoms.map((a) => a.id));
  const preferred = new Set(prefer.map((a) => a.id));
  const order = [...atoms.filter((a) => !preferred.has(a.id)), ...atoms.filter((a) => preferred.has(a.id))];
  for (const atom of order) {
    active.delete(atom.id);
    if (feasible((a) => active.has(a.id))) active.add(atom.id);
  }
  return atoms.filter((a) => active.has(a.id));
}
