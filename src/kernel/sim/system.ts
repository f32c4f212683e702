// The system heap (drivers/dma-buf/heaps/system_heap.c) and ION's system-contig heap.
//
// system_heap_allocate() builds the buffer from the largest chunks first: orders {8, 4, 0}
// (1 MiB, 64 KiB, 4 KiB with 4 KiB pages). alloc_largest_available() takes the largest order that
// fits the remaining size and is not above the order of the previous chunk (max_order only goes
// down), and before each chunk checks fatal_signal_pending() -> -EINTR (the 'allocate' fault point). Pages come from the buddy
// allocator, so the heap is bounded by RAM, never contiguous, and any free page will do: we model
// RAM as a page count (the buddy allocator's own fragmentation is out of scope: high-order
// attempts that fail in the kernel fall back to lower orders, which changes the chunk list, not
// whether the allocation succeeds).

import { PAGE_SIZE } from '../../constraints/model.js';
import { getOrder } from '../../util/int.js';
import type { HeapStats } from '../backend.js';
import { KernelError } from '../errno.js';
import type { Pool, PoolBlock } from './pool.js';

/** orders[] of system_heap.c. */
export const SYSTEM_HEAP_ORDERS = [8, 4, 0] as const;

/** The chunk list system_heap_allocate() produces for `size` bytes when every order is available. */
export function systemHeapChunks(size: number): Array<[number, number]> {
  let remaining = size;
  let maxOrder: number = SYSTEM_HEAP_ORDERS[0];
  const chunks: Array<[number, number]> = [];
  for (const order of SYSTEM_HEAP_ORDERS) {
    const chunk = PAGE_SIZE * 2 ** order;
    if (order > maxOrder || remaining < chunk) continue;
    const n = Math.floor(remaining / chunk);
    chunks.push([order, n]);
    remaining -= n * chunk;
    maxOrder = order;
  }
  return chunks;
}

export class SystemPool implements Pool {
  #used = 0;

  constructor(
    readonly heapName: string,
    readonly size: number,
  ) {}

  allocate(size: number): PoolBlock {
    if (size > this.size - this.#used) {
      throw new KernelError('DMA_HEAP_IOCTL_ALLOC', 'ENOMEM', { heap: this.heapName, detail: `${size} bytes asked, ${this.size - this.#used} bytes of RAM free` });
    }
    this.#used += size;
    return { size, physAddr: undefined, chunks: systemHeapChunks(size) };
  }

  release(block: PoolBlock): void {
    this.#used -= block.size;
  }

  stats(): HeapStats {
    const free = this.size - this.#used;
    return { capacity: this.size, used: this.#used, free, largestFree: free };
  }
}

/**
 * ION's system-contig heap (drivers/staging/android/ion/ion_system_contig_heap.c): one
 * alloc_pages(order = get_order(len)) block, split, with the pages past len freed at once; orders
 * above MAX_PAGE_ORDER (10) fail. Contiguous, but its physical placement is the buddy allocator's.
 */
export const MAX_PAGE_ORDER = 10;

export class SystemContigPool implements Pool {
  #used = 0;

  constructor(
    readonly heapName: string,
    readonly size: number,
  ) {}

  allocate(size: number): PoolBlock {
    if (getOrder(size) > MAX_PAGE_ORDER) {
      throw new KernelError('ION_IOC_ALLOC', 'ENOMEM', { heap: this.heapName, detail: `order ${getOrder(size)} is above MAX_PAGE_ORDER ${MAX_PAGE_ORDER}` });
    }
    if (size > this.size - this.#used) {
      throw new KernelError('ION_IOC_ALLOC', 'ENOMEM', { heap: this.heapName, detail: `${size} bytes asked, ${this.size - this.#used} bytes free` });
    }
    this.#used += size;
    return { size, physAddr: undefined, chunks: [[0, size / PAGE_SIZE]] };
  }

  release(block: PoolBlock): void {
    this.#used -= block.size;
  }

  stats(): HeapStats {
    const free = this.size - this.#used;
    return { capacity: this.size, used: this.#used, free, largestFree: Math.min(free, PAGE_SIZE * 2 ** MAX_PAGE_ORDER) };
  }
}
