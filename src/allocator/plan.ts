// A negotiated plan as the allocator API shows it: the layout and an opaque heap handle, with the
// solver's ranked placements kept private for allocate() to fall back through.

import type { Request } from '../constraints/model.js';
import { modifierHex, shortModifierName } from '../constraints/modifiers.js';
import { modifierValueOf, type Placement } from '../solver/solve.js';
import type { BufferLayout } from './buffer.js';
import type { HeapHandle } from './heap-handle.js';

export interface PlanChoice extends BufferLayout {
  readonly heap: HeapHandle;
  /**
   * A multi-planar format's buffer sizes, one per plane (each frame is that many dma-bufs, each
   * plane at offset 0 of its own); undefined when a frame is one buffer. `size` is then their sum.
   */
  readonly buffers: readonly number[] | undefined;
  /** Physical base alignment the heap guarantees. */
  readonly alignment: number;
  readonly count: number;
}

export function choiceOf(placement: Placement, request: Request, handle: HeapHandle): PlanChoice {
  return {
    format: placement.format.name,
    fourcc: placement.format.fourcc,
    modifier: shortModifierName(placement.modifier),
    modifierValue: modifierValueOf(placement),
    width: request.width,
    height: request.height,
    planes: placement.planes.map((p) => ({ offset: p.offset, pitch: p.pitch, size: p.size })),
    size: placement.size,
    cpu: request.cpu,
    heap: handle,
    buffers: placement.buffers,
    alignment: placement.alignment,
    count: placement.count,
  };
}

/** @internal What allocate() needs of a plan, computed once at negotiation. */
export interface PlanInternals {
  readonly placements: readonly Placement[];
  readonly choices: readonly PlanChoice[];
  readonly defaultOwner: string;
}

const internals = new WeakMap<Plan, PlanInternals>();

/** The best choice's layout, heap and count as a plan's own fields: what local and service plans share. */
export abstract class PlanLayout implements PlanChoice {
  readonly format: string;
  readonly fourcc: number;
  readonly modifier: string;
  readonly modifierValue: bigint;
  readonly width: number;
  readonly height: number;
  readonly planes: PlanChoice['planes'];
  readonly size: number;
  readonly cpu: PlanChoice['cpu'];
  readonly heap: HeapHandle;
  readonly buffers: readonly number[] | undefined;
  readonly alignment: number;
  readonly count: number;

  protected constructor(best: PlanChoice) {
    this.format = best.format;
    this.fourcc = best.fourcc;
    this.modifier = best.modifier;
    this.modifierValue = best.modifierValue;
    this.width = best.width;
    this.height = best.height;
    this.planes = best.planes;
    this.size = best.size;
    this.cpu = best.cpu;
    this.heap = best.heap;
    this.buffers = best.buffers;
    this.alignment = best.alignment;
    this.count = best.count;
  }

  toString(): string {
    const bytes = this.buffers ? `a buffer per plane: ${this.buffers.join(' + ')} bytes` : `${this.size} bytes`;
    return `${this.count} x ${this.format} ${this.modifier} ${this.width}x${this.height} (${bytes}, modifier ${modifierHex(this.modifierValue)}) in ${this.heap}`;
  }
}

export class Plan extends PlanLayout {
  /** Ranked fallbacks, best first, that allocate() tries when the heap above runs out. */
  readonly alternatives: readonly PlanChoice[];
  /** Per device: why the plan suits it. */
  readonly rationale: readonly string[];
  readonly request: Request;

  /** @internal Made by Allocator.negotiate(). */
  constructor(ranked: readonly Placement[], choices: readonly PlanChoice[], rationale: readonly string[], request: Request) {
    super(choices[0]!);
    this.alternatives = choices.slice(1);
    this.rationale = rationale;
    this.request = request;
    internals.set(this, { placements: ranked, choices, defaultOwner: request.devices.join('+') });
  }

}

/** @internal */
export function planInternals(plan: Plan): PlanInternals {
  return internals.get(plan)!;
}

/**
 * @internal The plan with only the ranked choices `keep` accepts (the service's heap policy and
 * quotas), best first; undefined when it keeps none.
 */
export function narrowPlan(plan: Plan, keep: (choice: PlanChoice) => boolean): Plan | undefined {
  const { placements, choices } = planInternals(plan);
  const kept = choices.map((_, i) => i).filter((i) => keep(choices[i]!));
  if (kept.length === 0) return undefined;
  if (kept.length === choices.length) return plan;
  return new Plan(kept.map((i) => placements[i]!), kept.map((i) => choices[i]!), plan.rationale, plan.request);
}

/**
 * The layout each buffer of a multi-planar choice follows, by plane: that plane alone, at offset
 * 0, in a buffer of its own size.
 */
export function planeBufferLayouts(choice: PlanChoice): BufferLayout[] {
  return (choice.buffers ?? [choice.size]).map((size, plane) => ({
    format: choice.format,
    fourcc: choice.fourcc,
    modifier: choice.modifier,
    modifierValue: choice.modifierValue,
    width: choice.width,
    height: choice.height,
    planes: choice.buffers ? [choice.planes[plane]!] : choice.planes,
    size,
    cpu: choice.cpu,
    ...(choice.buffers ? { plane } : {}),
  }));
}

/** A buffer's name: `name-N` for buffer N of a set, `name-N.P` for plane P of frame N of a multi-planar set. */
export function bufferName(name: string, frame: number, plane: number | undefined): string {
  return plane === undefined ? `${name}-${frame}` : `${name}-${frame}.${plane}`;
}

/** A multi-planar set's buffers (frame by frame, plane by plane) grouped by frame. */
export function framesOf<T>(buffers: readonly T[], planes: number): T[][] {
  return Array.from({ length: buffers.length / planes }, (_, f) => buffers.slice(f * planes, (f + 1) * planes));
}
