// Plans as the service sends them (JSON in a D-Bus string) and the client reads them back: the
// layout, the heap as a handle number with its kind, and the ranked alternatives.

import type { CpuAccess, HeapKind } from '../constraints/model.js';
import { modifierHex } from '../constraints/modifiers.js';
import type { Plan, PlanChoice } from '../allocator/plan.js';

export interface WireChoice {
  /** The heap's handle number (ListHeaps "handle"); never a name a client must use. */
  readonly heap: number;
  readonly heapKind: HeapKind;
  readonly format: string;
  readonly fourcc: number;
  readonly modifier: string;
  /** The 64-bit DRM modifier as "0x..." (JSON numbers stop at 2^53). */
  readonly modifierValue: string;
  readonly width: number;
  readonly height: number;
  readonly size: number;
  readonly count: number;
  readonly alignment: number;
  readonly cpu: CpuAccess;
  readonly planes: ReadonlyArray<{ readonly offset: number; readonly pitch: number; readonly size: number }>;
}

export interface WirePlan extends WireChoice {
  readonly alternatives: readonly WireChoice[];
  readonly rationale: readonly string[];
}

export function choiceWire(c: PlanChoice): WireChoice {
  return {
    heap: c.heap.id,
    heapKind: c.heap.describe().kind,
    format: c.format,
    fourcc: c.fourcc,
    modifier: c.modifier,
    modifierValue: modifierHex(c.modifierValue),
    width: c.width,
    height: c.height,
    size: c.size,
    count: c.count,
    alignment: c.alignment,
    cpu: c.cpu,
    planes: c.planes.map((p) => ({ offset: p.offset, pitch: p.pitch, size: p.size })),
  };
}

export function planWire(plan: Plan, used: PlanChoice = plan): WirePlan {
  return { ...choiceWire(used), alternatives: plan.alternatives.map(choiceWire), rationale: plan.rationale };
}
