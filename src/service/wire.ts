// Plans as the service sends them (JSON in a D-Bus string) and the client reads them back: the
// layout, the heap as a handle number with its kind, and the ranked alternatives.

import { layoutJson, type LayoutJson } from '../solver/json.js';
import type { Plan, PlanChoice } from '../allocator/plan.js';

/** A plan choice as the service sends it: the one layout shape (solver/json.ts), the heap as its handle number. */
export type WireChoice = LayoutJson<number>;

export interface WirePlan extends WireChoice {
  readonly alternatives: readonly WireChoice[];
  readonly rationale: readonly string[];
}

export function choiceWire(c: PlanChoice): WireChoice {
  return layoutJson({ ...c, heap: c.heap.id, heapKind: c.heap.describe().kind });
}

export function planWire(plan: Plan, used: PlanChoice = plan): WirePlan {
  return { ...choiceWire(used), alternatives: plan.alternatives.map(choiceWire), rationale: plan.rationale };
}
