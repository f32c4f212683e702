// Where each kind of heap puts a buffer, as far as capacity is concerned: the one statement of the
// kernel's placement rules that the solver's capacity check, the fixes, the sizing advice and the
// simulated kernel all share, so that whatever the solver plans on an empty heap, the heap places.
//
// - Every heap rounds a length up to whole pages (dma_heap_ioctl_allocate: len = PAGE_ALIGN(len)).
// - CMA (drivers/dma-buf/heaps/cma_heap.c over mm/cma.c): a buffer of `size` bytes is aligned to
//   2^min(get_order(size), CONFIG_CMA_ALIGNMENT) pages of the absolute PFN, and placed first fit from
//   the lowest address. On an empty area, N equal buffers therefore sit at the first aligned page at
//   or above the base and then one aligned stride apart: the padding between them is real waste.
// - Carveout and secure pools (lib/genalloc.c, gen_pool_create(PAGE_SHIFT)): page granule, no
//   alignment, first fit: N buffers take exactly N x size.
// - The system heap (system_heap.c): pages from anywhere in RAM, N x size.
// - ION's system-contig heap: one alloc_pages(get_order(len)) block with the tail freed, so N x size,
//   and no buffer beyond MAX_PAGE_ORDER (Heap.maxBuffer).

import { getOrder, pow2 } from '../util/int.js';
import { PAGE_SIZE, type Heap } from './model.js';

/**
 * CMA_MIN_ALIGNMENT_BYTES: one pageblock, 2 MiB with 4 KiB pages. A CMA area's base and size are
 * whole pageblocks: cma= sizes are aligned up to it (mm/cma.c cma_declare_contiguous_nid), and a
 * /reserved-memory CMA region that is not is refused ("Reserved memory: incorrect alignment of CMA
 * region", kernel/dma/contiguous.c rmem_cma_setup: !IS_ALIGNED(rmem->base | rmem->size, ...)).
 */
export const CMA_MIN_ALIGNMENT_BYTES = 2 * 2 ** 20;

/** The size a CMA area of at least `bytes` is given at boot: whole pageblocks. */
export function cmaAreaSize(bytes: number): number {
  return Math.ceil(bytes / CMA_MIN_ALIGNMENT_BYTES) * CMA_MIN_ALIGNMENT_BYTES;
}

/**
 * The capacity a pool of this kind is given at boot to hold at least `bytes`: a CMA area in whole
 * pageblocks (cmaAreaSize), a carveout or secure pool in whole pages.
 */
export function poolSizeAtBoot(heap: Heap, bytes: number): number {
  return heap.kind === 'cma' ? cmaAreaSize(bytes) : pageAlign(bytes);
}

/** The kernel's PAGE_ALIGN(len). */
export function pageAlign(len: number): number {
  return Math.ceil(len / PAGE_SIZE) * PAGE_SIZE;
}

/** The CMA heap's alignment order for a buffer: min(get_order(size), CONFIG_CMA_ALIGNMENT). */
export function cmaAlignOrder(size: number, alignOrder: number): number {
  return Math.min(getOrder(size), alignOrder);
}

/** Physical base alignment, in bytes, that a heap guarantees a buffer of `size` bytes. */
export function guaranteedAlignment(heap: Heap, size: number): number {
  if (heap.alignOrder !== undefined) return PAGE_SIZE * pow2(cmaAlignOrder(size, heap.alignOrder));
  return heap.maxAlign;
}

/**
 * Where equal buffers land in an empty pool: the offset of the first from the pool's base and the
 * distance between consecutive ones. A CMA area placed at boot without a fixed base starts on a
 * pageblock (CMA_MIN_ALIGNMENT_BYTES, at least 2 MiB), which satisfies every default alignment; the
 * simulated kernel puts such an area at address 0, which gives the same answer.
 */
function stride(heap: Heap, size: number): { first: number; step: number } {
  const bytes = pageAlign(size);
  if (heap.kind !== 'cma' || heap.alignOrder === undefined) return { first: 0, step: bytes };
  const align = guaranteedAlignment(heap, bytes);
  const base = heap.base ?? 0;
  const first = Math.ceil(base / align) * align - base;
  return { first, step: Math.ceil(bytes / align) * align };
}

/** How many buffers of `size` bytes the heap can hold when nothing else is in it. */
export function emptyHeapCapacity(heap: Heap, size: number): number {
  const bytes = pageAlign(size);
  if (bytes === 0) return Infinity;
  if (bytes > heap.maxBuffer) return 0;
  // stride(), written out: this runs for every heap of every layout a negotiation considers.
  let first = 0;
  let step = bytes;
  if (heap.kind === 'cma' && heap.alignOrder !== undefined) {
    const align = guaranteedAlignment(heap, bytes);
    const base = heap.base ?? 0;
    first = Math.ceil(base / align) * align - base;
    step = Math.ceil(bytes / align) * align;
  }
  if (heap.size < first + bytes) return 0;
  return Math.floor((heap.size - first - bytes) / step) + 1;
}

/**
 * The smallest capacity (bytes, whole pages) at which the heap, empty, holds `count` buffers of
 * `size` bytes; the heap's base stays where it is. The inverse of emptyHeapCapacity().
 */
export function minimumPoolSize(heap: Heap, size: number, count: number): number {
  if (count <= 0) return 0;
  const bytes = pageAlign(size);
  const { first, step } = stride(heap, bytes);
  return first + (count - 1) * step + bytes;
}

/** True when `count` buffers of `size` bytes fit in the heap, counting `free` bytes when given. */
export function fitsInHeap(heap: Heap, size: number, count: number, free?: number): boolean {
  if (count > emptyHeapCapacity(heap, size)) return false;
  // With buffers already live, only the free bytes are known: each new buffer still takes its
  // whole stride (a lower bound on what it costs; fragmentation can make it fail anyway, which
  // the allocator answers by falling back to the next plan).
  return free === undefined || minimumPoolSize({ ...heap, base: 0 }, size, count) <= free;
}
