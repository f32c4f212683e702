// A CMA area through the CMA heap (drivers/dma-buf/heaps/cma_heap.c over mm/cma.c): a buffer of
// `size` bytes is aligned to 2^min(get_order(size), CONFIG_CMA_ALIGNMENT) pages of the absolute
// PFN and placed first fit from the lowest address, so N equal buffers on an empty area sit at the
// first aligned page at or above the base and then one aligned stride apart. An area is whole
// pageblocks: cma= sizes are rounded up to them (mm/cma.c cma_declare_contiguous_nid) and a
// /reserved-memory region that is not is refused (kernel/dma/contiguous.c rmem_cma_setup:
// "incorrect alignment of CMA region").

import { formatAddress, formatBytes } from '../units.js';
import { getOrder, pow2 } from '../../util/int.js';
import { PAGE_SIZE } from '../model.js';
import type { HeapKindRules, PlacedHeap } from './kind.js';

/** CMA_MIN_ALIGNMENT_BYTES: one pageblock, 2 MiB with 4 KiB pages. */
export const CMA_MIN_ALIGNMENT_BYTES = 2 * 2 ** 20;

/** CONFIG_CMA_ALIGNMENT's default (mm/Kconfig): 8, so at most 1 MiB alignment. */
export const DEFAULT_CMA_ALIGNMENT = 8;

/** The names Linux and firmware give the default CMA area's heap (cma=, the DT's linux,cma, ...). */
export const DEFAULT_CMA_NAMES: readonly string[] = ['reserved', 'linux,cma', 'default-pool', 'default_cma_region'];

/** The size a CMA area of at least `bytes` is given at boot: whole pageblocks. */
export function cmaAreaSize(bytes: number): number {
  return Math.ceil(bytes / CMA_MIN_ALIGNMENT_BYTES) * CMA_MIN_ALIGNMENT_BYTES;
}

/** The CMA heap's alignment order for a buffer: min(get_order(size), CONFIG_CMA_ALIGNMENT). */
export function cmaAlignOrder(size: number, alignOrder: number): number {
  return Math.min(getOrder(size), alignOrder);
}

const MiB = 2 ** 20;

export const cma: HeapKindRules = {
  kind: 'cma',
  contiguous: true,
  cpuAccess: true,
  secure: false,
  scarcity: 2,
  allocator: 'cma',
  sizedPool: true,
  placeable: true,
  defaultAlignOrder: DEFAULT_CMA_ALIGNMENT,
  maxAlign: (alignOrder) => PAGE_SIZE << (alignOrder ?? DEFAULT_CMA_ALIGNMENT),
  maxBuffer: (size) => size,
  endWithoutPlace: () => Infinity,
  stride(heap: PlacedHeap, bytes: number) {
    const align = PAGE_SIZE * pow2(cmaAlignOrder(bytes, heap.alignOrder ?? DEFAULT_CMA_ALIGNMENT));
    // An area placed at boot without a fixed base starts on a pageblock, which satisfies every
    // default alignment; the simulated kernel puts such an area at address 0, with the same answer.
    const base = heap.base ?? 0;
    return { first: Math.ceil(base / align) * align - base, step: Math.ceil(bytes / align) * align };
  },
  extent(heap: PlacedHeap, sizes: readonly number[]) {
    // mm/cma.c cma_alloc(): bitmap_find_next_zero_area_off() from bit 0 for each buffer, at the
    // buffer's order alignment of the absolute PFN: the lowest aligned free run, gaps included.
    const base = heap.base ?? 0;
    const taken: Array<{ start: number; end: number }> = [];
    let extent = 0;
    for (const bytes of sizes) {
      const align = PAGE_SIZE * pow2(cmaAlignOrder(bytes, heap.alignOrder ?? DEFAULT_CMA_ALIGNMENT));
      const alignedFrom = (offset: number) => Math.ceil((base + offset) / align) * align - base;
      let start = alignedFrom(0);
      let i = 0;
      for (; i < taken.length; i++) {
        const t = taken[i]!;
        if (start + bytes <= t.start) break;
        if (t.end > start) start = alignedFrom(t.end);
      }
      taken.splice(i, 0, { start, end: start + bytes });
      extent = Math.max(extent, start + bytes);
    }
    return extent;
  },
  bootSize: cmaAreaSize,
  bootAdvice: (name, size) => {
    const area = cmaAreaSize(size);
    return `at boot: cma=${area / MiB}M if ${name} is the default CMA area, or size = <0x${area.toString(16)}> in its /reserved-memory node`;
  },
  refusal(heap) {
    const block = formatBytes(CMA_MIN_ALIGNMENT_BYTES);
    if (heap.base !== undefined && heap.base % CMA_MIN_ALIGNMENT_BYTES !== 0) return { field: 'base', why: `a CMA area starts on a whole pageblock (${block}); Linux refuses one at ${formatAddress(heap.base)} ("incorrect alignment of CMA region", kernel/dma/contiguous.c)` };
    if (heap.size % CMA_MIN_ALIGNMENT_BYTES !== 0) return { field: 'size', why: `a CMA area is whole pageblocks (${block}); Linux refuses a /reserved-memory region of this size ("incorrect alignment of CMA region", kernel/dma/contiguous.c) and rounds cma= up to ${formatBytes(cmaAreaSize(heap.size))}` };
    return undefined;
  },
};
