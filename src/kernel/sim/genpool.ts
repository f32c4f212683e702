// Carveout and secure heaps: a fixed physical range handed out by lib/genalloc.c, as the ION
// carveout heap did (drivers/staging/android/ion/ion_carveout_heap.c: gen_pool_create(PAGE_SHIFT),
// gen_pool_add(base, size), gen_pool_alloc(size) with the default gen_pool_first_fit, i.e.
// bitmap_find_next_zero_area(map, size, 0, nbits, 0): lowest-address first fit, no alignment
// beyond the page granule). A failed gen_pool_alloc() becomes -ENOMEM.

import { PAGE_SIZE } from '../../constraints/model.js';
import type { HeapStats } from '../backend.js';
import { KernelError } from '../errno.js';
import { Bitmap } from './bitmap.js';
import type { PlacementPolicy, Pool, PoolBlock } from './pool.js';

export class GenPool implements Pool {
  readonly bitmap: Bitmap;

  constructor(
    readonly heapName: string,
    readonly base: number,
    readonly size: number,
    readonly policy: PlacementPolicy = 'first-fit',
  ) {
    this.bitmap = new Bitmap(size / PAGE_SIZE);
  }

  allocate(size: number): PoolBlock {
    const nbits = size / PAGE_SIZE;
    const index = this.policy === 'first-fit' ? this.bitmap.findZeroArea(0, nbits, 0, 0) : this.bitmap.findBestFitArea(nbits, 0, 0);
    if (index + nbits > this.bitmap.size) {
      throw new KernelError('DMA_HEAP_IOCTL_ALLOC', 'ENOMEM', { heap: this.heapName, detail: `gen_pool_alloc: no free run of ${nbits} pages` });
    }
    this.bitmap.setRange(index, nbits);
    return { size, physAddr: this.base + index * PAGE_SIZE, chunks: [[0, nbits]] };
  }

  release(block: PoolBlock): void {
    this.bitmap.clearRange((block.physAddr! - this.base) / PAGE_SIZE, block.size / PAGE_SIZE);
  }

  stats(): HeapStats {
    const used = this.bitmap.setCount * PAGE_SIZE;
    return { capacity: this.size, used, free: this.size - used, largestFree: this.bitmap.longestZeroRun() * PAGE_SIZE };
  }
}
