// A page bitmap with the search of lib/bitmap.c, used by the CMA (mm/cma.c) and gen_pool
// (lib/genalloc.c) models. One byte per bit: Uint8Array.indexOf is a native scan, which keeps the
// simulator fast without bit twiddling.

export class Bitmap {
  readonly bits: Uint8Array;
  #set = 0;

  constructor(readonly size: number) {
    this.bits = new Uint8Array(size);
  }

  get setCount(): number {
    return this.#set;
  }

  /** find_next_zero_bit: first clear bit at or after `start`, or `size`. */
  nextZero(start: number): number {
    if (start >= this.size) return this.size;
    const i = this.bits.indexOf(0, start);
    return i < 0 ? this.size : i;
  }

  /** find_next_bit limited to `end`: first set bit in [start, end), or `end`. */
  nextSet(start: number, end: number): number {
    if (start >= end) return end;
    const i = this.bits.subarray(0, end).indexOf(1, start);
    return i < 0 ? end : i;
  }

  /**
   * bitmap_find_next_zero_area_off (lib/bitmap.c): the first run of `count` clear bits at or after
   * `start` whose index plus `alignOffset` is a multiple of `alignMask + 1`. Returns an index >= size
   * when there is none, as the kernel does.
   */
  findZeroArea(start: number, count: number, alignMask: number, alignOffset: number): number {
    for (;;) {
      let index = this.nextZero(start);
      // __ALIGN_MASK(index + align_offset, align_mask) - align_offset
      index = alignUpMask(index + alignOffset, alignMask) - alignOffset;
      const end = index + count;
      if (end > this.size) return end;
      const busy = this.nextSet(index, end);
      if (busy >= end) return index;
      start = busy + 1;
    }
  }

  /**
   * Best fit (not in the kernel; a placement policy to compare against): among the free runs that
   * can hold `count` bits at an index with (index + alignOffset) a multiple of alignMask + 1, the
   * shortest run, lowest address first on ties. Returns an index >= size when none can.
   */
  findBestFitArea(count: number, alignMask: number, alignOffset: number): number {
    let best = this.size;
    let bestRun = Infinity;
    let i = this.nextZero(0);
    while (i < this.size) {
      const end = this.nextSet(i, this.size);
      const run = end - i;
      if (run < bestRun) {
        const start = alignUpMask(i + alignOffset, alignMask) - alignOffset;
        if (start + count <= end) {
          best = start;
          bestRun = run;
          if (run === count) break; // cannot do better than an exact fit
        }
      }
      i = this.nextZero(end);
    }
    return best;
  }

  setRange(start: number, count: number): void {
    this.bits.fill(1, start, start + count);
    this.#set += count;
  }

  clearRange(start: number, count: number): void {
    this.bits.fill(0, start, start + count);
    this.#set -= count;
  }

  /** Length of the longest run of clear bits (debugfs cma/<name>/maxchunk). */
  longestZeroRun(): number {
    let best = 0;
    let i = this.nextZero(0);
    while (i < this.size) {
      const end = this.nextSet(i, this.size);
      best = Math.max(best, end - i);
      i = this.nextZero(end);
    }
    return best;
  }
}

function alignUpMask(value: number, mask: number): number {
  // Masks are 2^k - 1 with k <= 30 here, but values can exceed 2^31, so avoid 32-bit bit operators.
  return mask === 0 ? value : Math.ceil(value / (mask + 1)) * (mask + 1);
}
