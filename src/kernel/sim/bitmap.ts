// A page bitmap with the search of lib/bitmap.c, used by the CMA (mm/cma.c) and gen_pool
// (lib/genalloc.c) models. The set bits are kept as sorted runs [start, end) rather than one byte
// per bit: the kernel's word-at-a-time scans become binary searches over the runs, so an empty
// pool costs nothing to make and a pool filled with hundreds of buffers is searched in steps of a
// buffer, not of a page. Every answer is the one a scan of the bits gives (tested against one).

export class Bitmap {
  /** Starts and (exclusive) ends of the runs of set bits, sorted; runs neither overlap nor touch. */
  readonly #starts: number[] = [];
  readonly #ends: number[] = [];
  #set = 0;

  constructor(readonly size: number) {}

  get setCount(): number {
    return this.#set;
  }

  /** Whether bit `index` is set (test_bit). */
  isSet(index: number): boolean {
    const i = this.#runAtOrBefore(index);
    return i >= 0 && index < this.#ends[i]!;
  }

  /** Index of the last run starting at or before `index`, or -1. */
  #runAtOrBefore(index: number): number {
    const starts = this.#starts;
    let lo = 0;
    let hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid]! <= index) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  /** find_next_zero_bit: first clear bit at or after `start`, or `size`. */
  nextZero(start: number): number {
    if (start >= this.size) return this.size;
    const i = this.#runAtOrBefore(start);
    if (i >= 0 && start < this.#ends[i]!) return Math.min(this.#ends[i]!, this.size);
    return start;
  }

  /** find_next_bit limited to `end`: first set bit in [start, end), or `end`. */
  nextSet(start: number, end: number): number {
    if (start >= end) return end;
    const i = this.#runAtOrBefore(start);
    if (i >= 0 && start < this.#ends[i]!) return start;
    const next = this.#starts[i + 1];
    return next !== undefined && next < end ? next : end;
  }

  /**
   * bitmap_find_next_zero_area_off (lib/bitmap.c): the first run of `count` clear bits at or after
   * `start` whose index plus `alignOffset` is a multiple of `alignMask + 1`. Returns an index >= size
   * when there is none, as the kernel does.
   */
  findZeroArea(start: number, count: number, alignMask: number, alignOffset: number): number {
    // The kernel's loop, with its two scans done on the runs: find_next_zero_bit(start) is the end
    // of the run holding `start` (else `start`), and after a busy bit the search resumes at the end
    // of that bit's run. Runs are walked in order from there, so one search costs a step per run
    // passed, not a binary search per gap.
    const starts = this.#starts;
    const ends = this.#ends;
    let run = this.#runAtOrBefore(start);
    let from = run >= 0 && start < ends[run]! ? ends[run]! : start;
    if (run < 0) run = 0;
    for (;;) {
      // __ALIGN_MASK(index + align_offset, align_mask) - align_offset
      const index = alignUpMask(from + alignOffset, alignMask) - alignOffset;
      const end = index + count;
      if (end > this.size) return end;
      while (run < starts.length && ends[run]! <= index) run++;
      if (run >= starts.length || starts[run]! >= end) return index;
      from = ends[run]!;
      run++;
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

  /** bitmap_set: sets bits [start, start + count). */
  setRange(start: number, count: number): void {
    if (count <= 0) return;
    let from = start;
    let to = start + count;
    const starts = this.#starts;
    const ends = this.#ends;
    // Runs that overlap or touch [from, to) merge into it.
    let first = this.#runAtOrBefore(from);
    if (first < 0 || ends[first]! < from) first++;
    let last = first;
    let covered = 0;
    while (last < starts.length && starts[last]! <= to) {
      covered += Math.max(0, Math.min(ends[last]!, start + count) - Math.max(starts[last]!, start));
      from = Math.min(from, starts[last]!);
      to = Math.max(to, ends[last]!);
      last++;
    }
    this.#set += count - covered;
    starts.splice(first, last - first, from);
    ends.splice(first, last - first, to);
  }

  /** bitmap_clear: clears bits [start, start + count). */
  clearRange(start: number, count: number): void {
    if (count <= 0) return;
    const end = start + count;
    const starts = this.#starts;
    const ends = this.#ends;
    let i = this.#runAtOrBefore(start);
    if (i < 0 || ends[i]! <= start) i++;
    const keptStarts: number[] = [];
    const keptEnds: number[] = [];
    let j = i;
    for (; j < starts.length && starts[j]! < end; j++) {
      const s = starts[j]!;
      const e = ends[j]!;
      this.#set -= Math.min(e, end) - Math.max(s, start);
      if (s < start) {
        keptStarts.push(s);
        keptEnds.push(start);
      }
      if (e > end) {
        keptStarts.push(end);
        keptEnds.push(e);
      }
    }
    starts.splice(i, j - i, ...keptStarts);
    ends.splice(i, j - i, ...keptEnds);
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
