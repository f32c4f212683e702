// The stable JSON shapes of negotiation results, for scripts (the CLI's --json) and for the
// service's replies.

import type { CpuAccess, HeapKind } from '../constraints/model.js';
import { modifierHex, shortModifierName } from '../constraints/modifiers.js';
import type { Atom, Conflict, Fix, Negotiation, Placement } from './index.js';
import { modifierValueOf } from './solve.js';

/**
 * The one JSON shape of a planned buffer, wherever udalloc prints or sends one (negotiate and
 * explain --json, alloc --json, the library's JSON helpers, the service's replies): the layout
 * an application hands to KMS, V4L2 or EGL. `heap` is the heap's name for an administrator's tools
 * and the library, its handle number in the service's replies (clients never learn names).
 */
export interface LayoutJson<Heap extends string | number = string | number> {
  readonly heap: Heap;
  readonly heapKind: HeapKind;
  readonly format: string;
  /** The DRM fourcc code, as the kernel's u32 (DRM_FORMAT_NV12 = 842094158). */
  readonly fourcc: number;
  readonly modifier: string;
  /** The 64-bit DRM modifier as "0x..." (JSON numbers stop at 2^53), parameters (a SAND column height) included. */
  readonly modifierValue: string;
  readonly width: number;
  readonly height: number;
  /** Bytes per buffer as allocated. */
  readonly size: number;
  readonly count: number;
  /** Physical base alignment the heap guarantees. */
  readonly alignment: number;
  /** The CPU access the layout was planned for. */
  readonly cpu: CpuAccess;
  readonly planes: ReadonlyArray<{ readonly offset: number; readonly pitch: number; readonly size: number }>;
  /** A multi-planar format (NV12M...): each frame's buffers, one per plane, their sizes summing to `size`; absent: one buffer. */
  readonly buffers?: readonly number[] | undefined;
}

/** The parts of a layout, from a solver placement or an allocator plan choice: the modifier value as the 64-bit number it is. */
export type LayoutParts<Heap extends string | number> = Omit<LayoutJson<Heap>, 'modifierValue'> & { readonly modifierValue: bigint };

export function layoutJson<Heap extends string | number>(l: LayoutParts<Heap>): LayoutJson<Heap> {
  return {
    heap: l.heap,
    heapKind: l.heapKind,
    format: l.format,
    fourcc: l.fourcc,
    modifier: l.modifier,
    modifierValue: modifierHex(l.modifierValue),
    width: l.width,
    height: l.height,
    size: l.size,
    count: l.count,
    alignment: l.alignment,
    cpu: l.cpu,
    planes: l.planes.map((pl) => ({ offset: pl.offset, pitch: pl.pitch, size: pl.size })),
    ...(l.buffers ? { buffers: [...l.buffers] } : {}),
  };
}

/** What a placement was planned for: the request's size and CPU use (or a fix's changed ones). */
export interface Asked {
  readonly width: number;
  readonly height: number;
  readonly cpu: CpuAccess;
}

/** A solver placement in the one layout shape, with the heap's name. */
export function planJson(p: Placement, asked: Asked): LayoutJson<string> {
  return layoutJson({
    heap: p.heap.name,
    heapKind: p.heap.kind,
    format: p.format.name,
    fourcc: p.format.fourcc,
    modifier: shortModifierName(p.modifier),
    modifierValue: modifierValueOf(p),
    width: asked.width,
    height: asked.height,
    size: p.size,
    count: p.count,
    alignment: p.alignment,
    cpu: asked.cpu,
    planes: p.planes,
    buffers: p.buffers,
  });
}

/** What each plan of a fix was planned for: the shared buffer's changed request, then each copy's. */
function askedOfFix(f: Fix, request: Asked): Asked[] {
  let shared: Asked = request;
  const copies: Asked[] = [];
  for (const c of f.changes) {
    if (c.target === 'copy') copies.push({ width: c.request.width, height: c.request.height, cpu: c.request.cpu });
    else if (c.target === 'request' && (c.field === 'width' || c.field === 'height' || c.field === 'cpu')) shared = { ...shared, [c.field]: c.value };
  }
  return [shared, ...copies];
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

export function fixJson(f: Fix, request: Asked): Record<string, unknown> {
  const asked = askedOfFix(f, request);
  return { fix: f.text, changes: f.changes, atoms: f.atoms.map(atomJson), plans: f.plans.map((p, i) => planJson(p, asked[i] ?? request)) };
}

export function conflictJson(c: Conflict, request: Asked): Record<string, unknown> {
  return { atoms: c.atoms.map(atomJson), core: c.core.map(atomJson), fixes: c.fixes.map((f) => fixJson(f, request)), hardware: c.hardware };
}

/** A negotiation's result as JSON; `request` is the one negotiated (its size and CPU use go into each layout). */
export function negotiationJson(result: Negotiation, request: Asked): Record<string, unknown> {
  if (result.ok) return { plan: planJson(result.plan, request), alternatives: result.alternatives.map((p) => planJson(p, request)), rationale: result.rationale };
  return { conflict: conflictJson(result.conflict, request) };
}
