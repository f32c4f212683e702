// Where buffers go in a heap, as far as capacity is concerned: the solver's capacity check, the
// fixes, the sizing advice and the simulated kernel all ask here, and each heap kind states its
// own rule once (heap-kinds/: the kernel's placement for that kind), so that whatever the solver
// plans on an empty heap, the heap places. Every heap rounds a length up to whole pages
// (dma_heap_ioctl_allocate: len = PAGE_ALIGN(len)).

import { pow2 } from '../util/int.js';
import { cmaAlignOrder, HEAP_KINDS } from './heap-kinds/index.js';
import { PAGE_SIZE, type Heap } from './model.js';

/** The kernel's PAGE_ALIGN(len). */
export function pageAlign(len: number): number {
  return Math.ceil(len / PAGE_SIZE) * PAGE_SIZE;
}

/** Physical base alignment, in bytes, that a heap guarantees a buffer of `size` bytes. */
export function guaranteedAlignment(heap: Heap, size: number): number {
  if (heap.alignOrder !== undefined) return PAGE_SIZE * pow2(cmaAlignOrder(size, heap.alignOrder));
  return heap.maxAlign;
}

/** How many buffers of `size` bytes the heap can hold when nothing else is in it. */
export function emptyHeapCapacity(heap: Heap, size: number): number {
  const bytes = pageAlign(size);
  if (bytes === 0) return Infinity;
  if (bytes > heap.maxBuffer) return 0;
  // The kinds' strides written out (heap-kinds/: pages, or CMA's order alignment): this is asked
  // for every heap of every layout a negotiation or an explanation considers, and calling the
  // kind's stride() allocates. A test holds the two equal.
  let first = 0;
  let step = bytes;
  if (heap.alignOrder !== undefined) {
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
  const { first, step } = HEAP_KINDS[heap.kind].stride(heap, bytes);
  return first + (count - 1) * step + bytes;
}

/** The capacity a pool is given at boot to hold at least `bytes` (a CMA area in whole pageblocks). */
export function poolSizeAtBoot(heap: Heap, bytes: number): number {
  return HEAP_KINDS[heap.kind].bootSize(bytes);
}

/** True when `count` buffers of `size` bytes fit in the heap, counting `free` bytes when given. */
export function fitsInHeap(heap: Heap, size: number, count: number, free?: number): boolean {
  if (count > emptyHeapCapacity(heap, size)) return false;
  // With buffers already live, only the free bytes are known: each new buffer still takes its
  // whole stride (a lower bound on what it costs; fragmentation can make it fail anyway, which
  // the allocator answers by falling back to the next plan).
  return free === undefined || minimumPoolSize({ ...heap, base: 0 }, size, count) <= free;
}

/*
 * Frames of several buffers (a V4L2 multi-planar format: one dma-buf per plane), allocated frame
 * by frame, plane by plane, as the allocator asks for them. Buffers of different sizes get
 * different alignments on CMA, and first fit fills a gap one leaves with a later, smaller one: no
 * stride gives their extent, each kind's extent() places them (heap-kinds/).
 */

/** The offset past the last buffer of `count` frames of `sizes` on the empty heap. */
export function framesExtent(heap: Heap, sizes: readonly number[], count: number): number {
  const pages = sizes.map(pageAlign);
  const all: number[] = [];
  for (let i = 0; i < count; i++) all.push(...pages);
  return HEAP_KINDS[heap.kind].extent(heap, all);
}

/** The capacity a pool needs for `count` buffers of a plan (one size, or a multi-planar frame's buffers), its base kept. */
export function poolBytesFor(heap: Heap, plan: { readonly size: number; readonly count: number; readonly buffers?: readonly number[] | undefined }): number {
  return plan.buffers ? framesExtent(heap, plan.buffers, plan.count) : minimumPoolSize(heap, plan.size, plan.count);
}

/** fitsInHeap() for `count` frames of buffers of `sizes`. */
export function framesFit(heap: Heap, sizes: readonly number[], count: number, free?: number): boolean {
  if (sizes.some((s) => pageAlign(s) > heap.maxBuffer)) return false;
  if (framesExtent(heap, sizes, count) > heap.size) return false;
  return free === undefined || framesExtent({ ...heap, base: 0 }, sizes, count) <= free;
}
