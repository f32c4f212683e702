// The stable JSON shapes of negotiation results, for scripts (the CLI's --json) and for the
// service's replies.

import { modifierHex, shortModifierName } from '../constraints/modifiers.js';
import type { Atom, Conflict, Fix, Negotiation, Placement } from './index.js';
import { modifierValueOf } from './solve.js';

export function planJson(p: Placement): Record<string, unknown> {
  return {
    heap: p.heap.name,
    format: p.format.name,
    fourcc: `0x${p.format.fourcc.toString(16).padStart(8, '0')}`,
    modifier: shortModifierName(p.modifier),
    modifierValue: modifierHex(modifierValueOf(p)),
    size: p.size,
    count: p.count,
    alignment: p.alignment,
    planes: p.planes.map((pl) => ({ offset: pl.offset, pitch: pl.pitch, size: pl.size })),
    rank: p.rank,
  };
}

export function atomJson(a: Atom): Record<string, unknown> {
  return {
    ...(a.device !== undefined ? { device: a.device } : {}),
    ...(a.heap !== undefined ? { heap: a.heap } : {}),
    ...(a.request ? { request: true } : {}),
    ...(a.format !== undefined ? { format: a.format } : {}),
    constraint: a.constraint,
    value: a.value,
    source: a.source,
    changeable: a.changeable,
  };
}

export function fixJson(f: Fix): Record<string, unknown> {
  return { fix: f.text, changes: f.changes, atoms: f.atoms.map(atomJson), plans: f.plans.map(planJson) };
}

export function conflictJson(c: Conflict): Record<string, unknown> {
  return { atoms: c.atoms.map(atomJson), core: c.core.map(atomJson), fixes: c.fixes.map(fixJson), hardware: c.hardware };
}

export function negotiationJson(result: Negotiation): Record<string, unknown> {
  if (result.ok) return { plan: planJson(result.plan), alternatives: result.alternatives.map(planJson), rationale: result.rationale };
  return { conflict: conflictJson(result.conflict) };
}
