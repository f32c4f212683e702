// What a CMA area's live bitmap means for the next allocation, answered with the same model of
// mm/cma.c the simulated kernel uses (kernel/sim/cma.ts: first fit at the buffer's order
// alignment of the absolute PFN): the largest free run, the largest buffer that can be allocated
// now (smaller: it must start aligned for its size), fragmentation, and whether a set of buffers
// fits now and where.

import { PAGE_SIZE } from '../constraints/model.js';
import { cmaAlignOrder, DEFAULT_CMA_ALIGNMENT } from '../constraints/heap-kinds/index.js';
import { CmaArea } from '../kernel/sim/cma.js';
import type { CmaAreaState } from './read.js';

export type DebugState = NonNullable<CmaAreaState['debug']>;

/** Runs of set bits [start, start + bits) of the debugfs bitmap (one bit per 2^orderPerBit pages). */
export function usedBitRuns(d: DebugState): Array<{ start: number; bits: number }> {
  const runs: Array<{ start: number; bits: number }> = [];
  let start = -1;
  for (let i = 0; i <= d.bitmap.length; i++) {
    const used = i < d.bitmap.length && d.bitmap[i]!;
    if (used && start < 0) start = i;
    if (!used && start >= 0) {
      runs.push({ start, bits: i - start });
      start = -1;
    }
  }
  return runs;
}

/** The live area as the simulated kernel's CMA area: same base, size, granularity and used bits. */
export function liveArea(name: string, d: DebugState): CmaArea {
  const area = new CmaArea(name, d.basePfn * PAGE_SIZE, d.pages * PAGE_SIZE, d.orderPerBit);
  for (const run of usedBitRuns(d)) area.bitmap.setRange(run.start, run.bits);
  return area;
}

/** Runs of free pages [start, end) in page offsets from the base, in an area's bitmap. */
export function freeRuns(area: CmaArea): Array<{ start: number; end: number }> {
  const per = 2 ** area.orderPerBit;
  const runs: Array<{ start: number; end: number }> = [];
  const bits = area.bitmap.size;
  let at = area.bitmap.nextZero(0);
  while (at < bits) {
    let end = at;
    while (end < bits && !area.bitmap.isSet(end)) end++;
    runs.push({ start: at * per, end: end * per });
    at = area.bitmap.nextZero(end);
  }
  return runs;
}

/** The longest run of free pages that starts where a buffer of `pages` pages may start (its order alignment). */
export function largestAlignedRun(area: CmaArea, pages: number, alignOrder = DEFAULT_CMA_ALIGNMENT): number {
  const align = 2 ** cmaAlignOrder(pages * PAGE_SIZE, alignOrder);
  let best = 0;
  for (const r of freeRuns(area)) {
    // The first page of the run whose absolute PFN is aligned.
    const first = Math.ceil((area.basePfn + r.start) / align) * align - area.basePfn;
    if (first < r.end) best = Math.max(best, r.end - first);
  }
  return best;
}

/**
 * Whether buffers of these sizes (bytes), allocated in order now, all fit; each one's PFN when it
 * does, and the area as it is after those that fit.
 */
export function fitNow(name: string, d: DebugState, sizes: readonly number[], alignOrder = DEFAULT_CMA_ALIGNMENT): { pfns: number[]; failed: number | undefined; after: CmaArea } {
  const area = liveArea(name, d);
  const pfns: number[] = [];
  for (let i = 0; i < sizes.length; i++) {
    const pages = Math.ceil(sizes[i]! / PAGE_SIZE);
    const pfn = area.alloc(pages, cmaAlignOrder(pages * PAGE_SIZE, alignOrder));
    if (pfn === undefined) return { pfns, failed: i, after: area };
    pfns.push(pfn);
  }
  return { pfns, failed: undefined, after: area };
}

/**
 * The largest buffer (pages) that can be allocated now: a smaller one needs no more alignment, so
 * fitting is monotone. Each try is allocated on one copy of the area and released again.
 */
export function largestAllocatable(name: string, d: DebugState, alignOrder = DEFAULT_CMA_ALIGNMENT): number {
  const area = liveArea(name, d);
  const fits = (pages: number) => {
    const pfn = area.alloc(pages, cmaAlignOrder(pages * PAGE_SIZE, alignOrder));
    if (pfn === undefined) return false;
    area.release(pfn, pages);
    return true;
  };
  let lo = 0;
  let hi = d.pages - d.usedPages;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi + 1) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export interface AreaReport {
  readonly name: string;
  readonly base: number;
  readonly size: number;
  readonly used: number;
  readonly free: number;
  /** The largest free run (bytes), as the bitmap shows it; the kernel's maxchunk says the same. */
  readonly largestRun: number;
  /** The largest buffer (bytes) that can be allocated now, its alignment counted. */
  readonly largestBuffer: number;
  /** 1 - largestBuffer / free: 0 when all free memory is one usable run, near 1 when it is in crumbs. */
  readonly fragmentation: number;
}

export function areaReport(name: string, d: DebugState, alignOrder = DEFAULT_CMA_ALIGNMENT): AreaReport {
  const free = (d.pages - d.usedPages) * PAGE_SIZE;
  const largestRun = Math.max(0, ...freeRuns(liveArea(name, d)).map((r) => r.end - r.start)) * PAGE_SIZE;
  const largestBuffer = largestAllocatable(name, d, alignOrder) * PAGE_SIZE;
  return { name, base: d.basePfn * PAGE_SIZE, size: d.pages * PAGE_SIZE, used: d.usedPages * PAGE_SIZE, free, largestRun, largestBuffer, fragmentation: free === 0 ? 0 : 1 - largestBuffer / free };
}

export interface NoFit {
  /** exhausted: less free than the buffer; fragmented: enough free, but no run long enough where it may start. */
  readonly kind: 'exhausted' | 'fragmented';
  readonly free: number;
  /** The longest free run (bytes) starting aligned as the buffer must. */
  readonly alignedRun: number;
  readonly align: number;
}

/** Why a buffer of `size` bytes does not fit in the area as it is. */
export function whyNoFit(area: CmaArea, size: number, alignOrder = DEFAULT_CMA_ALIGNMENT): NoFit {
  const pages = Math.ceil(size / PAGE_SIZE);
  const free = (area.count - area.usedPages()) * PAGE_SIZE;
  return { kind: free < pages * PAGE_SIZE ? 'exhausted' : 'fragmented', free, alignedRun: largestAlignedRun(area, pages, alignOrder) * PAGE_SIZE, align: 2 ** cmaAlignOrder(pages * PAGE_SIZE, alignOrder) * PAGE_SIZE };
}
