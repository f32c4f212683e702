// File descriptor numbers handed out the way Linux does (fs/file.c alloc_fd): the lowest free
// number, starting above stdin/stdout/stderr, up to RLIMIT_NOFILE.

import { KernelError } from '../errno.js';

export class FdTable<T> {
  readonly #entries = new Map<number, T>();
  /** Freed numbers below #next, kept sorted so the lowest is reused first. */
  readonly #freed: number[] = [];
  #next: number;

  constructor(
    readonly first = 3,
    readonly limit = 1024,
  ) {
    this.#next = first;
  }

  install(entry: T, op: string): number {
    let fd: number;
    if (this.#freed.length > 0) fd = this.#freed.shift()!;
    else {
      if (this.#next >= this.limit) throw new KernelError(op, 'EMFILE', { detail: `RLIMIT_NOFILE is ${this.limit}` });
      fd = this.#next++;
    }
    this.#entries.set(fd, entry);
    return fd;
  }

  get(fd: number, op: string): T {
    const entry = this.#entries.get(fd);
    if (entry === undefined) throw new KernelError(op, 'EBADF', { fd });
    return entry;
  }

  remove(fd: number, op: string): T {
    const entry = this.get(fd, op);
    this.#entries.delete(fd);
    if (fd === this.#next - 1) {
      this.#next--;
      // Shrink the high-water mark past any freed numbers now at the top.
      while (this.#freed.length > 0 && this.#freed[this.#freed.length - 1] === this.#next - 1) {
        this.#freed.pop();
        this.#next--;
      }
    } else {
      this.#freed.splice(sortedIndex(this.#freed, fd), 0, fd);
    }
    return entry;
  }

  fds(): number[] {
    return [...this.#entries.keys()].sort((a, b) => a - b);
  }

  get size(): number {
    return this.#entries.size;
  }
}

function sortedIndex(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
