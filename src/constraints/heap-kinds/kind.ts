// What a kind of heap is, stated once per kind (one module each, like the kernel's
// drivers/dma-buf/heaps): its defaults, how the kernel places buffers in it, the largest buffer it
// hands out, whether it is a pool sized at boot and how to size it there. The profile loader, the
// solver's placement rules, the fixes, pool sizing and the simulated kernel read these entries;
// nothing else decides by a heap's kind.

import type { HeapKind } from '../model.js';

/** The kernel allocator behind a kind (the simulated kernel models each one). */
export type KernelAllocator = 'pages' | 'pages-block' | 'cma' | 'genpool';

/** A heap as far as its kind's rules need it. */
export interface PlacedHeap {
  readonly base: number | undefined;
  readonly size: number;
  readonly alignOrder: number | undefined;
}

export interface HeapKindRules {
  readonly kind: HeapKind;
  /** What the kind guarantees when a profile does not say otherwise. */
  readonly contiguous: boolean;
  readonly cpuAccess: boolean;
  readonly secure: boolean;
  /** Lower is more plentiful and preferred among equal plans (system < system-contig < cma < carveout < secure). */
  readonly scarcity: number;
  readonly allocator: KernelAllocator;
  /**
   * A pool whose size is set at boot (a CMA area, a reserved-memory carveout): what pool sizing
   * answers and a fix may grow. RAM-backed kinds are not: no boot setting gives them more.
   */
  readonly sizedPool: boolean;
  /** Whether where it lies can be chosen at boot (reg, alloc-ranges, cma=...@start-end): a fix may move it below a DMA limit. */
  readonly placeable: boolean;
  /** The CMA alignment order a profile gets by default (CONFIG_CMA_ALIGNMENT); undefined for the other kinds. */
  readonly defaultAlignOrder: number | undefined;
  /** Largest physical base alignment it guarantees, given its alignment order. */
  maxAlign(alignOrder: number | undefined): number;
  /** Largest single buffer a heap of `size` bytes hands out. */
  maxBuffer(size: number): number;
  /** Its end address when the profile gives neither base nor limit. */
  endWithoutPlace(size: number): number;
  /** Where equal buffers of `bytes` (whole pages) land in an empty heap: the first's offset from the base, and the distance between them. */
  stride(heap: PlacedHeap, bytes: number): { readonly first: number; readonly step: number };
  /**
   * Where buffers of several sizes (whole pages), allocated in this order on the empty heap, end:
   * the offset past the last one from the base. Multi-planar frames (a buffer per plane) need it:
   * buffers of different sizes get different alignments, and a later one may fill an earlier gap.
   */
  extent(heap: PlacedHeap, sizes: readonly number[]): number;
  /** The capacity a heap of this kind is given at boot to hold at least `bytes`. */
  bootSize(bytes: number): number;
  /** How to give heap `name` `size` bytes at boot, or undefined when no boot setting does (RAM). */
  bootAdvice(name: string, size: number): string | undefined;
  /** Why Linux would refuse a heap described so (base, size), naming the field; undefined when it would not. */
  refusal(heap: { readonly base: number | undefined; readonly size: number }): { readonly field: 'base' | 'size'; readonly why: string } | undefined;
}
