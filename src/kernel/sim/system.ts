// The system heap (drivers/dma-buf/heaps/system_heap.c) and ION's system-contig heap.
//
// system_heap_allocate() builds the buffer from the largest chunks first: orders {8, 4, 0}
// (1 MiB, 64 KiB, 4 KiB with 4 KiB pages). alloc_largest_available() takes the largest order that
// fits the remaining size and is not above the order of the previous chunk (max_order only goes
// down), and before each chunk checks fatal_signal_pending() -> -EINTR (the 'allocate' fault point).
// Pages come from the buddy allocator (buddy.ts), so the heap is bounded by RAM and never
// contiguous; a high-order attempt (__GFP_NORETRY) that finds no free block of that order falls
// back to the next order, so on fragmented RAM a buffer is made of smaller chunks, as in Linux.

import { MAX_PAGE_ORDER, PAGE_SIZE } from '../../constraints/model.js';
import { getOrder } from '../../util/int.js';
import type { HeapStats } from '../backend.js';
import { KernelError } from '../errno.js';
import { BuddyAllocator } from './buddy.js';
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
  readonly #ram: BuddyAllocator;
  #used = 0;

  constructor(
    readonly heapName: string,
    readonly size: number,
  ) {
    this.#ram = new BuddyAllocator(Math.floor(size / PAGE_SIZE));
  }

  allocate(size: number): PoolBlock {
    if (size > this.#ram.freePages * PAGE_SIZE) {
      throw new KernelError('DMA_HEAP_IOCTL_ALLOC', 'ENOMEM', { heap: this.heapName, detail: `${size} bytes asked, ${this.#ram.freePages * PAGE_SIZE} bytes of RAM free` });
    }
    // alloc_largest_available(), chunk by chunk; max_order only goes down.
    const parts: Array<readonly [number, number]> = [];
    let remaining = size / PAGE_SIZE;
    let maxOrder: number = SYSTEM_HEAP_ORDERS[0];
    while (remaining > 0) {
      let got: readonly [number, number] | undefined;
      for (const order of SYSTEM_HEAP_ORDERS) {
        if (remaining < 2 ** order || order > maxOrder) continue;
        const pfn = this.#ram.alloc(order);
        if (pfn !== undefined) {
          got = [pfn, order];
          break;
        }
      }
      if (!got) {
        for (const [pfn, order] of parts) this.#ram.free(pfn, order);
        throw new KernelError('DMA_HEAP_IOCTL_ALLOC', 'ENOMEM', { heap: this.heapName, detail: 'no free page left' });
      }
      parts.push(got);
      remaining -= 2 ** got[1];
      maxOrder = got[1];
    }
    this.#used += size;
    return { size, physAddr: undefined, chunks: summarize(parts), parts };
  }

  release(block: PoolBlock): void {
    for (const [pfn, order] of block.parts ?? []) this.#ram.free(pfn, order);
    this.#used -= block.size;
  }

  stats(): HeapStats {
    const free = this.size - this.#used;
    return { capacity: this.size, used: this.#used, free, largestFree: free };
  }

  /** Free blocks per order, as /proc/buddyinfo shows them. */
  buddyinfo(): number[] {
    return this.#ram.buddyinfo();
  }
}

/** (order, count) runs of a chunk list, in allocation order. */
function summarize(parts: ReadonlyArray<readonly [number, number]>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const [, order] of parts) {
    const last = out[out.length - 1];
    if (last && last[0] === order) last[1]++;
    else out.push([order, 1]);
  }
  return out;
}

/**
 * ION's system-contig heap (drivers/staging/android/ion/ion_system_contig_heap.c): one
 * alloc_pages(order = get_order(len)) block, split, with the pages past len freed at once; orders
 * above MAX_PAGE_ORDER (10) fail. Contiguous, but its physical placement is the buddy allocator's.
 */

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
