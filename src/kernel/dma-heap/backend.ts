// The dma-heap backend: Linux dma-buf heaps under /dev/dma_heap (drivers/dma-buf/dma-heap.c).
// Heaps are enumerated, never assumed: the default CMA heap is "reserved", "linux,cma",
// "default-pool" or "default_cma_region" depending on kernel and firmware.

import { PAGE_SIZE } from '../../constraints/model.js';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { listDirectory } from '../../util/fs.js';
import { join } from 'node:path';
import type { HeapKind } from '../../constraints/model.js';
import { O_CLOEXEC, O_RDWR, type AllocateFlags, type HeapInfo, type HeapStats } from '../backend.js';
import { DmaBufFileBackend } from '../dma-buf-files.js';
import { kernelError, loadNative, syscall, type NativeAddon } from '../native/addon.js';
import { meminfo } from '../meminfo.js';
import { DEFAULT_CMA_NAMES } from '../../constraints/heap-kinds/index.js';

const NO_FLAGS: AllocateFlags = Object.freeze({});
/** What the default CMA heap has been called (Documentation/userspace-api/dma-buf-heaps.rst). */

export interface DmaHeapOptions {
  /** Where the heaps are (default /dev/dma_heap). */
  readonly dir?: string;
  /** Root of /proc and /sys (default /). */
  readonly root?: string;
  readonly addon?: NativeAddon;
}

export class DmaHeapBackend extends DmaBufFileBackend {
  readonly kind = 'dma-heap';
  readonly #dir: string;
  readonly #root: string;
  readonly #heapFds = new Map<string, number>();

  constructor(options: DmaHeapOptions = {}) {
    const root = options.root ?? '/';
    super(options.addon ?? loadNative(), join(root, 'proc'));
    this.#dir = options.dir ?? '/dev/dma_heap';
    this.#root = root;
  }

  /** Names under /dev/dma_heap. */
  names(): string[] {
    return listDirectory(this.#dir);
  }

  /**
   * system for "system*"; CMA when the kernel lists an area of that name (/sys/kernel/mm/cma with
   * CONFIG_CMA_SYSFS, or debugfs cma/), it is one of the default CMA heap's names, or the device
   * tree has a reusable reserved-memory node of that name. Anything else
   * is treated as non-contiguous, the safe guess: the solver then never gives it to a device
   * without an IOMMU.
   */
  kindOf(name: string): HeapKind {
    if (name === 'system' || name.startsWith('system')) return 'system';
    const areas = [join(this.#root, 'sys/kernel/mm/cma', name), join(this.#root, 'sys/kernel/debug/cma', name)];
    if (areas.some((p) => existsSync(p)) || DEFAULT_CMA_NAMES.includes(name)) return 'cma';
    // From 6.17 every reusable shared-dma-pool node is a heap named after the node.
    if (existsSync(join(this.#root, 'sys/firmware/devicetree/base/reserved-memory', name, 'reusable'))) return 'cma';
    return 'system';
  }

  heaps(): HeapInfo[] {
    return this.names().map((name) => {
      const kind = this.kindOf(name);
      return { name, kind, base: undefined, contiguous: kind !== 'system', cpuAccess: true, path: join(this.#dir, name), ...this.#stats(name, kind) };
    });
  }

  heapStats(heap: string): HeapStats {
    return this.#stats(heap, this.kindOf(heap));
  }

  #stats(heap: string, kind: HeapKind): HeapStats {
    const mem = meminfo(this.#root);
    const used = this.usedBytes(heap);
    if (kind === 'system') {
      const capacity = mem['MemTotal'] ?? 0;
      const free = mem['MemAvailable'] ?? Math.max(0, capacity - used);
      return { capacity, used, free, largestFree: free };
    }
    // CMA: /proc/meminfo totals (one area) and debugfs maxchunk when mounted and readable.
    const capacity = mem['CmaTotal'] ?? 0;
    const free = mem['CmaFree'] ?? 0;
    let largestFree = free;
    try {
      const pages = Number(readFileSync(join(this.#root, 'sys/kernel/debug/cma', heap, 'maxchunk'), 'utf8'));
      if (Number.isFinite(pages)) largestFree = pages * PAGE_SIZE;
    } catch {
      // debugfs not mounted or not root: the free total is the best bound we have
    }
    return { capacity, used, free, largestFree };
  }

  #heapFd(heap: string): number {
    let fd = this.#heapFds.get(heap);
    if (fd === undefined) {
      fd = syscall('open', { heap }, () => openSync(join(this.#dir, heap), 'r+'));
      this.#heapFds.set(heap, fd);
    }
    return fd;
  }

  allocate(heap: string, len: number, flags: AllocateFlags = NO_FLAGS): number {
    // A heap that does not exist fails the open with ENOENT; no directory listing per allocation.
    const heapFd = this.#heapFd(heap);
    let fd: number;
    try {
      fd = this.addon.dmaHeapAlloc(heapFd, len, flags.fdFlags ?? O_RDWR | O_CLOEXEC, flags.heapFlags ?? 0);
    } catch (err) {
      // Not through syscall(): no closure on the per-buffer hot path.
      throw kernelError('DMA_HEAP_IOCTL_ALLOC', { heap }, err);
    }
    return this.adopt(fd, heap, Math.ceil(len / PAGE_SIZE) * PAGE_SIZE);
  }

  /** Closes the heap device fds (buffers stay owned by their holders). */
  dispose(): void {
    for (const fd of this.#heapFds.values()) closeSync(fd);
    this.#heapFds.clear();
  }
}
