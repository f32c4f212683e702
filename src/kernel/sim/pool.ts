// What every simulated heap provides to the simulated kernel: allocate pages, release them, report.

import type { HeapStats } from '../backend.js';
import type { FaultInjector } from './faults.js';

export interface PoolBlock {
  /** Bytes taken from the pool (what the buffer's size reports). */
  readonly size: number;
  /** Physical address of a contiguous block; undefined for scattered pages. */
  readonly physAddr: number | undefined;
  /** Chunks the buffer is made of, as (order, count): the sg_table's shape. */
  readonly chunks: ReadonlyArray<readonly [order: number, count: number]>;
  /** Scattered blocks as (first pfn, order), for pools that hand out pages from a buddy allocator. */
  readonly parts?: ReadonlyArray<readonly [pfn: number, order: number]>;
}

export interface Pool {
  /** Allocates a page-aligned `size` (already PAGE_ALIGNed by the caller); throws KernelError. */
  allocate(size: number, faults: FaultInjector): PoolBlock;
  release(block: PoolBlock): void;
  stats(): HeapStats;
}

/**
 * Where a contiguous pool places a buffer. 'first-fit' is what Linux does (mm/cma.c,
 * lib/genalloc.c); 'best-fit' (the shortest free run that fits) is offered to measure how much a
 * smarter allocator would save when sizing pools.
 */
export type PlacementPolicy = 'first-fit' | 'best-fit';
export const PLACEMENT_POLICIES: readonly PlacementPolicy[] = ['first-fit', 'best-fit'];
