// The CMA heap, modelled on drivers/dma-buf/heaps/cma_heap.c over mm/cma.c (Linux 6.12).
//
// cma_heap_allocate(): size = PAGE_ALIGN(len); pagecount = size >> PAGE_SHIFT;
//   align = min(get_order(size), CONFIG_CMA_ALIGNMENT); cma_alloc(cma, pagecount, align).
// cma_alloc() (__cma_alloc in 6.12):
//   mask   = cma_bitmap_aligned_mask(cma, align)   = (1 << (align - order_per_bit)) - 1
//   offset = cma_bitmap_aligned_offset(cma, align) = (base_pfn & ((1 << align) - 1)) >> order_per_bit
//   loop: bitmap_no = bitmap_find_next_zero_area_off(bitmap, maxno, start, bits, mask, offset);
//         none -> fail; set the bits; alloc_contig_range(pfn, pfn + count);
//         success -> done; -EBUSY (pinned pages) -> clear the bits, start = bitmap_no + mask + 1, retry;
//         other error -> fail.
// The search always restarts at bit 0, so placement is first fit at the lowest address, and a free
// total larger than the request can still fail when no aligned run is long enough.

import { PAGE_SIZE } from '../../constraints/model.js';
import { cmaAlignOrder, DEFAULT_CMA_ALIGNMENT } from '../../constraints/heap-kinds/index.js';
import type { HeapStats } from '../backend.js';
import { KernelError } from '../errno.js';
import { Bitmap } from './bitmap.js';
import type { FaultInjector } from './faults.js';
import type { PlacementPolicy, Pool, PoolBlock } from './pool.js';


export class CmaArea {
  readonly bitmap: Bitmap;
  readonly basePfn: number;
  readonly count: number;

  /**
   * @param base physical base address (page aligned)
   * @param size bytes (a whole number of pages)
   * @param orderPerBit pages per bitmap bit as a power of two (0 for cma= and device-tree areas)
   */
  constructor(
    readonly name: string,
    base: number,
    size: number,
    readonly orderPerBit = 0,
    readonly policy: PlacementPolicy = 'first-fit',
  ) {
    this.basePfn = base / PAGE_SIZE;
    this.count = size / PAGE_SIZE;
    this.bitmap = new Bitmap(Math.floor(this.count / 2 ** orderPerBit));
  }

  #pagesToBits(pages: number): number {
    const per = 2 ** this.orderPerBit;
    return Math.ceil(pages / per);
  }

  /**
   * cma_alloc(): returns the first PFN of `count` pages aligned to 2^align pages, or undefined.
   * `busy(pfn, count)` stands for alloc_contig_range() failing with -EBUSY on that range.
   */
  alloc(count: number, align: number, busy: (pfn: number, count: number) => boolean = () => false): number | undefined {
    if (count === 0) return undefined;
    const mask = align > this.orderPerBit ? 2 ** (align - this.orderPerBit) - 1 : 0;
    const offset = Math.floor((this.basePfn % 2 ** align) / 2 ** this.orderPerBit);
    const bits = this.#pagesToBits(count);
    if (bits > this.bitmap.size) return undefined;
    let start = 0;
    for (;;) {
      const bitmapNo = this.policy === 'first-fit' ? this.bitmap.findZeroArea(start, bits, mask, offset) : start === 0 ? this.bitmap.findBestFitArea(bits, mask, offset) : this.bitmap.findZeroArea(start, bits, mask, offset);
      if (bitmapNo >= this.bitmap.size || bitmapNo + bits > this.bitmap.size) return undefined;
      this.bitmap.setRange(bitmapNo, bits);
      const pfn = this.basePfn + bitmapNo * 2 ** this.orderPerBit;
      if (!busy(pfn, count)) return pfn;
      // cma_clear_bitmap(), then "try again with a bit different memory target".
      this.bitmap.clearRange(bitmapNo, bits);
      start = bitmapNo + mask + 1;
    }
  }

  /** cma_release(): clears the bits of `count` pages starting at `pfn`. */
  release(pfn: number, count: number): void {
    const bitmapNo = (pfn - this.basePfn) / 2 ** this.orderPerBit;
    this.bitmap.clearRange(bitmapNo, this.#pagesToBits(count));
  }

  usedPages(): number {
    return this.bitmap.setCount * 2 ** this.orderPerBit;
  }
}

export class CmaPool implements Pool {
  readonly area: CmaArea;

  constructor(
    readonly heapName: string,
    readonly base: number,
    readonly size: number,
    /** CONFIG_CMA_ALIGNMENT. */
    readonly alignmentOrder = DEFAULT_CMA_ALIGNMENT,
    orderPerBit = 0,
    policy: PlacementPolicy = 'first-fit',
  ) {
    this.area = new CmaArea(heapName, base, size, orderPerBit, policy);
  }

  allocate(size: number, faults: FaultInjector): PoolBlock {
    const pages = size / PAGE_SIZE;
    const align = cmaAlignOrder(size, this.alignmentOrder);
    const pfn = this.area.alloc(pages, align, () => faults.check('migrate', this.heapName) === 'EBUSY');
    if (pfn === undefined) {
      // cma_heap_allocate() turns a NULL from cma_alloc() into -ENOMEM.
      throw new KernelError('DMA_HEAP_IOCTL_ALLOC', 'ENOMEM', { heap: this.heapName, detail: `cma_alloc: no free run of ${pages} pages aligned to ${2 ** align} pages (${this.stats().free} bytes free, largest run ${this.stats().largestFree})` });
    }
    return { size, physAddr: pfn * PAGE_SIZE, chunks: [[0, pages]] };
  }

  release(block: PoolBlock): void {
    this.area.release(block.physAddr! / PAGE_SIZE, block.size / PAGE_SIZE);
  }

  stats(): HeapStats {
    const used = this.area.usedPages() * PAGE_SIZE;
    return { capacity: this.size, used, free: this.size - used, largestFree: this.area.bitmap.longestZeroRun() * 2 ** this.area.orderPerBit * PAGE_SIZE };
  }
}
