// The allocator's live buffer records, for stats() and close(). A dense array with each record
// knowing its own index: add and remove are O(1) with no hashing, which matters because they run
// once per buffer allocated and closed (a Map keyed by fd cost ~80 ns per buffer, a tenth of
// allocate()'s own overhead on the simulated kernel).

export interface Slotted {
  /** Index in the live array while live, -1 otherwise. */
  slot: number;
}

export class LiveRecords<T extends Slotted> {
  readonly #items: T[] = [];

  get size(): number {
    return this.#items.length;
  }

  add(item: T): void {
    item.slot = this.#items.length;
    this.#items.push(item);
  }

  /** Removes an item (no-op when it is not live): the last item moves into its slot. */
  remove(item: T): void {
    const i = item.slot;
    const items = this.#items;
    if (i < 0 || items[i] !== item) return;
    const last = items.pop()!;
    if (last !== item) {
      items[i] = last;
      last.slot = i;
    }
    item.slot = -1;
  }

  /** A snapshot, in no particular order. */
  values(): T[] {
    return this.#items.slice();
  }
}
