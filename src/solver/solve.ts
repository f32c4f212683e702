// The search: walks (format, modifier) candidates in joint preference order, lays each out,
// and keeps every heap that meets the merged requirements. Plans are ranked lexicographically by
// (format preference, modifier preference, heap preference, heap scarcity, size).

import type { FormatInfo } from '../constraints/formats.js';
import { PAGE_SIZE, type Heap, type Platform, type Request } from '../constraints/model.js';
import type { ModifierInfo } from '../constraints/modifiers.js';
import { getOrder, pow2 } from '../util/int.js';
import { fitsInHeap, framesFit, guaranteedAlignment } from '../constraints/placement.js';
import { computeLayout, type PlaneLayout } from './layout.js';
import { compileOnce, eligibleHeaps, type Problem, type ShapeTable } from './problem.js';

export interface Placement {
  readonly heap: Heap;
  readonly format: FormatInfo;
  readonly modifier: ModifierInfo;
  readonly planes: readonly PlaneLayout[];
  /** Bytes per buffer as allocated (page and sizeAlign rounded, padded for alignment on CMA); a multi-planar frame's sum. */
  readonly size: number;
  /** A multi-planar format's buffers per frame, each as allocated (one per plane); undefined: one buffer. */
  readonly buffers: readonly number[] | undefined;
  /** Bytes the planes use, before rounding. */
  readonly used: number;
  /** Physical base alignment the heap guarantees for a buffer of this size. */
  readonly alignment: number;
  readonly count: number;
  /** Lexicographic rank; lower is better. */
  readonly rank: readonly number[];
  /** The modifier with the parameters the layout sets (a SAND column height), when it has any. */
  readonly modifierValue?: bigint;
}

/** The modifier value a buffer of this plan is described by (to KMS, V4L2, EGL). */
export function modifierValueOf(p: Placement): bigint {
  return p.modifierValue ?? p.modifier.value;
}

export { guaranteedAlignment };

/**
 * The size to ask the heap for so that it guarantees `align`: on CMA a larger request gets a larger
 * order alignment, so padding the size buys alignment. Returns undefined when no size can.
 */
export function sizeForAlignment(heap: Heap, size: number, align: number): number | undefined {
  if (guaranteedAlignment(heap, size) % align === 0) return size;
  if (heap.alignOrder === undefined) return undefined;
  for (let order = getOrder(size); order <= heap.alignOrder; order++) {
    if ((PAGE_SIZE * pow2(order)) % align === 0) return Math.max(size, PAGE_SIZE * pow2(order));
  }
  return undefined;
}

/**
 * The bytes to ask `heap` for so that a layout of `bytes` gets `physAlign` (sizeForAlignment()),
 * or undefined when the heap cannot take it: no padding gives the alignment, the padded size is
 * over `maxSize`, or, when its capacity counts (`count` given), the buffer is larger than the heap
 * hands out or `count` of them do not fit (in `free` bytes, when known). The search and the
 * conflict explainer's feasibility check (relax.ts) both ask this of every heap they consider.
 */
export function sizeInHeap(heap: Heap, bytes: number, physAlign: number, maxSize: number, count: number | undefined, free: number | undefined): number | undefined {
  const size = sizeForAlignment(heap, bytes, physAlign);
  if (size === undefined || size > maxSize) return undefined;
  if (count !== undefined && (size > heap.maxBuffer || !fitsInHeap(heap, size, count, free))) return undefined;
  return size;
}

/** The base alignment a placement guarantees: its buffer's, or the least of a multi-planar frame's buffers'. */
export function placedAlignment(heap: Heap, size: number, buffers: readonly number[] | undefined): number {
  return buffers ? Math.min(...buffers.map((b) => guaranteedAlignment(heap, b))) : guaranteedAlignment(heap, size);
}

/**
 * sizeInHeap() for a multi-planar frame: each buffer padded for `physAlign` and within the limits,
 * and `count` frames of them placed in the heap (constraints/placement.ts framesFit()). The
 * buffers as allocated, or undefined.
 */
export function framesInHeap(heap: Heap, sizes: readonly number[], physAlign: number, maxSize: number, count: number | undefined, free: number | undefined): number[] | undefined {
  const padded: number[] = [];
  for (const bytes of sizes) {
    const size = sizeForAlignment(heap, bytes, physAlign);
    if (size === undefined || size > maxSize) return undefined;
    padded.push(size);
  }
  if (count !== undefined && !framesFit(heap, padded, count, free)) return undefined;
  return padded;
}

/**
 * Free bytes a heap has now, when the caller knows it (a live allocator). Without it, heaps are
 * judged empty, with the kernel's placement rules (constraints/placement.ts).
 */
export type CapacityOf = (heap: Heap) => number;

export interface SearchOptions {
  /** Stop after this many plans (best first). */
  readonly limit: number;
  readonly capacityOf?: CapacityOf;
}

/**
 * Walks the candidates best first and keeps, for each layout, every heap that takes it. The heaps'
 * size-independent checks (reach, contiguity, DMA limit, security, CPU access) are made once per
 * problem (problem.ts eligibleHeaps(), kept with a compiled shape); each layout is then checked only
 * for alignment padding, size limits and capacity, and nothing is allocated for a heap that does
 * not take it.
 */
export function search(platform: Platform, problem: Problem, options: SearchOptions): Placement[] {
  const eligible = problem.eligible ?? eligibleHeaps(platform, problem.heap, problem.preferredHeapRank);
  const found: Placement[] = [];
  const req = problem.heap;
  for (const candidate of problem.candidates) {
    if (problem.width > candidate.maxWidth || problem.height > candidate.maxHeight) continue;
    for (const { modifier, rank: modifierRank } of candidate.modifiers) {
      const layout = computeLayout(candidate.format, modifier, problem.width, problem.height, candidate.rules);
      if (!layout) continue;
      if (candidate.maxPitch !== Infinity && layout.planes.some((p) => p.pitch > candidate.maxPitch)) continue;
      const first = found.length;
      for (const { heap, index, preference } of eligible) {
        const counts = req.capacityLimited === undefined || req.capacityLimited.has(heap.name);
        let size: number | undefined;
        let buffers: number[] | undefined;
        if (layout.buffers === undefined) size = sizeInHeap(heap, layout.size, req.physAlign, req.maxSize, counts ? problem.count : undefined, counts ? options.capacityOf?.(heap) : undefined);
        else {
          buffers = framesInHeap(heap, layout.buffers, req.physAlign, req.maxSize, counts ? problem.count : undefined, counts ? options.capacityOf?.(heap) : undefined);
          size = buffers?.reduce((a, b) => a + b, 0);
        }
        if (size === undefined) continue;
        const placement: Placement = {
          heap,
          format: candidate.format,
          modifier,
          planes: layout.planes,
          size,
          buffers,
          used: layout.used,
          alignment: placedAlignment(heap, size, buffers),
          count: problem.count,
          rank: [candidate.rank, modifierRank, preference, heap.scarcity, size, index],
        };
        if (layout.modifierValue !== undefined) (placement as { modifierValue?: bigint }).modifierValue = layout.modifierValue;
        found.push(placement);
      }
      if (found.length - first > 1) {
        const group = found.splice(first).sort((a, b) => compareRank(a.rank, b.rank));
        for (const p of group) found.push(p);
      }
      // Candidates come in rank order, so once enough plans are in hand the rest can only rank lower.
      if (found.length >= options.limit) {
        found.length = options.limit;
        return found;
      }
    }
  }
  return found;
}

export function compareRank(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * The best plan for a request made for one look (a fix's changed inputs), or undefined: what
 * negotiate() would plan first, without the alternatives, the rationale or the explanation. With
 * `uncapped`, those heaps' capacity does not count (a fix sizes them from this plan).
 */
export function bestPlan(shapes: ShapeTable, request: Request, capacityOf?: CapacityOf, uncapped?: ReadonlySet<string>): Placement | undefined {
  return search(shapes.platform, compileOnce(shapes, request, uncapped), { limit: 1, capacityOf })[0];
}
