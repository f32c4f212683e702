// What a /dev/dma_heap name says about the heap behind it, across kernel generations
// (Documentation/userspace-api/dma-buf-heaps.rst of each):
// - up to 6.16 the default CMA area's heap is named after the area: "reserved" (cma= or the
//   Kconfig size), the device-tree node ("linux,cma") or firmware's "default-pool";
// - from 6.17 it is "default_cma_region", and with CONFIG_DMABUF_HEAPS_CMA_LEGACY (default y) the
//   same area is also published under its old name: two entries, one pool;
// - from 6.17 every reusable shared-dma-pool region has a heap named after its node (full name);
// - from 6.18 the TEE subsystem adds protected heaps ("protected,secure-video",
//   "protected,trusted-ui", "protected,secure-video-record", drivers/tee/tee_heap.c): memory the
//   normal world cannot map.

import { DEFAULT_CMA_NAMES } from '../../constraints/heap-kinds/index.js';

/** The default CMA area's name from Linux 6.17 (kernel/dma/contiguous.c). */
export const DEFAULT_CMA_REGION = 'default_cma_region';

/** The prefix of the TEE's protected heaps (drivers/tee/tee_heap.c, Linux 6.18). */
export const PROTECTED_PREFIX = 'protected,';

export interface HeapEntryName {
  /** The name udalloc lists and allocates through. */
  readonly name: string;
  /** Other /dev/dma_heap entries for the same pool (the legacy name of the default CMA area). */
  readonly aliases: readonly string[];
}

/**
 * The pools behind a /dev/dma_heap listing: each pool once. When "default_cma_region" is listed,
 * an old default-CMA name listed beside it is the same area (CONFIG_DMABUF_HEAPS_CMA_LEGACY); it
 * becomes an alias, so capacity, sizing and usage count the area once.
 */
export function poolsOf(names: readonly string[]): HeapEntryName[] {
  if (!names.includes(DEFAULT_CMA_REGION)) return names.map((name) => ({ name, aliases: [] }));
  const legacy = names.filter((n) => n !== DEFAULT_CMA_REGION && DEFAULT_CMA_NAMES.includes(n));
  return names.filter((n) => !legacy.includes(n)).map((name) => ({ name, aliases: name === DEFAULT_CMA_REGION ? legacy : [] }));
}

/** A TEE protected heap (the CPU cannot map its buffers). */
export function isProtectedHeap(name: string): boolean {
  return name.startsWith(PROTECTED_PREFIX);
}
