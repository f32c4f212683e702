// The solver: pure, synchronous, no I/O.
export { prepare, PreparedPlatform } from './prepared.js';
export { negotiate, conflictKey, type Negotiation, type Conflict, type Fix, type FixCheck, type NegotiateOptions } from './negotiate.js';
export { applyChanges, type Change, type CopyRequest, type Applied } from './apply.js';
export { atomize, atomLabel, type Atom } from './atoms.js';
export { computeLayout, type Layout, type PlaneLayout, type LayoutRules } from './layout.js';
export { guaranteedAlignment, compareRank, modifierValueOf, type Placement, type CapacityOf } from './solve.js';
export { violations } from './verify.js';
export { explainChoices, type ChoiceExplanation, type FormatVerdict, type ModifierVerdict, type HeapVerdict, type Verdict } from './explain-choices.js';
export { planJson, atomJson, fixJson, conflictJson, negotiationJson } from './json.js';
