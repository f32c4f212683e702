// The page allocator the system heap draws from: a binary buddy allocator as mm/page_alloc.c runs
// it (free lists per order up to MAX_PAGE_ORDER, a block split on allocation, merged with its
// buddy on free). It decides whether a high-order chunk is available, so the chunk list of a
// system-heap buffer depends on how fragmented RAM is, as on a real machine.

import { MAX_PAGE_ORDER } from '../../constraints/model.js';

/**
 * Per-CPU page lists for order-0 pages (struct per_cpu_pages): refilled and drained `batch` pages
 * at a time and capped at `high`. 63 is zone_batchsize()'s cap; high is 6 batches, a typical
 * value (the kernel derives it from the zone's watermarks). One CPU is modelled.
 */
export const PCP_BATCH = 63;
export const PCP_HIGH = 6 * PCP_BATCH;

export class BuddyAllocator {
  /** Per order, the first page frame of each free block. */
  readonly #free: Array<Set<number>> = Array.from({ length: MAX_PAGE_ORDER + 1 }, () => new Set());
  /** Order-0 pages cached on the per-CPU list (free, but not in the buddy lists). */
  readonly #pcp: number[] = [];
  #freePages = 0;
  /**
   * The max-order blocks no one has taken yet, [#untouched, #untouchedEnd): the free list's first
   * entries, handed out lowest first before any block freed later (a Set keeps insertion order).
   * Kept as a range so that a machine of gigabytes costs nothing to set up.
   */
  #untouched = 0;
  readonly #untouchedEnd: number;

  constructor(readonly pages: number) {
    // Carve RAM into the largest naturally aligned blocks, as memblock hands it to the allocator.
    const maxBlock = 2 ** MAX_PAGE_ORDER;
    this.#untouchedEnd = Math.floor(pages / maxBlock) * maxBlock;
    let pfn = this.#untouchedEnd;
    while (pfn < pages) {
      let order = MAX_PAGE_ORDER;
      while (order > 0 && (pfn % 2 ** order !== 0 || pfn + 2 ** order > pages)) order--;
      this.#free[order]!.add(pfn);
      pfn += 2 ** order;
    }
    this.#freePages = pages;
  }

  get freePages(): number {
    return this.#freePages;
  }

  /** A free block of 2^order pages (its first pfn); order 0 comes from the per-CPU list. */
  alloc(order: number): number | undefined {
    if (order === 0) {
      if (this.#pcp.length === 0) {
        // rmqueue_bulk(): refill a batch from the buddy lists.
        for (let i = 0; i < PCP_BATCH; i++) {
          const pfn = this.#fromBuddy(0);
          if (pfn === undefined) break;
          this.#pcp.push(pfn);
        }
      }
      const pfn = this.#pcp.pop();
      if (pfn !== undefined) this.#freePages--;
      return pfn;
    }
    const pfn = this.#fromBuddy(order);
    if (pfn !== undefined) this.#freePages -= 2 ** order;
    return pfn;
  }

  #fromBuddy(order: number): number | undefined {
    for (let o = order; o <= MAX_PAGE_ORDER; o++) {
      const list = this.#free[o]!;
      let pfn: number;
      if (o === MAX_PAGE_ORDER && this.#untouched < this.#untouchedEnd) {
        pfn = this.#untouched;
        this.#untouched += 2 ** MAX_PAGE_ORDER;
      } else {
        if (list.size === 0) continue;
        pfn = list.values().next().value as number;
        list.delete(pfn);
      }
      // expand(): the upper halves go back to the lower free lists.
      for (let split = o - 1; split >= order; split--) this.#free[split]!.add(pfn + 2 ** split);
      return pfn;
    }
    // The per-CPU list may still hold pages a caller could use: give them back and retry once.
    if (order > 0 && this.#pcp.length > 0) {
      this.#drain(this.#pcp.length);
      return this.#fromBuddy(order);
    }
    return undefined;
  }

  /** Returns a block: order 0 to the per-CPU list (drained a batch when above high), else merged. */
  free(pfn: number, order: number): void {
    this.#freePages += 2 ** order;
    if (order === 0) {
      this.#pcp.push(pfn);
      if (this.#pcp.length > PCP_HIGH) this.#drain(PCP_BATCH);
      return;
    }
    this.#toBuddy(pfn, order);
  }

  /** free_pcppages_bulk(): the oldest cached pages go back to the buddy lists. */
  #drain(count: number): void {
    for (const pfn of this.#pcp.splice(0, count)) this.#toBuddy(pfn, 0);
  }

  /** __free_one_page(): merge with the buddy for as long as it is free. */
  #toBuddy(pfn: number, order: number): void {
    while (order < MAX_PAGE_ORDER) {
      const size = 2 ** order;
      const buddy = (pfn / size) % 2 === 0 ? pfn + size : pfn - size;
      if (!this.#free[order]!.delete(buddy)) break;
      pfn = Math.min(pfn, buddy);
      order++;
    }
    this.#free[order]!.add(pfn);
  }

  /** Pages on the per-CPU list. */
  get pcpCount(): number {
    return this.#pcp.length;
  }

  /** Free blocks per order (as /proc/buddyinfo shows them; per-CPU pages are not included). */
  buddyinfo(): number[] {
    return this.#free.map((s, order) => s.size + (order === MAX_PAGE_ORDER ? (this.#untouchedEnd - this.#untouched) / 2 ** MAX_PAGE_ORDER : 0));
  }
}
