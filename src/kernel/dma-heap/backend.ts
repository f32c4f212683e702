// The dma-heap backend: Linux dma-buf heaps under /dev/dma_heap (drivers/dma-buf/dma-heap.c).
// Heaps are enumerated, never assumed: the default CMA heap is "reserved", "linux,cma",
// "default-pool" or "default_cma_region" depending on kernel and firmware.

import { closeSync, existsSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HeapKind } from '../../constraints/model.js';
import { O_CLOEXEC, O_RDWR, type AllocateFlags, type DmaBufInfo, type HeapInfo, type HeapStats, type KernelBackend, type Mapping } from '../backend.js';
import { KernelError } from '../errno.js';
import { dmaBufInfo } from '../fd-info.js';
import { loadNative, syscall, type NativeAddon } from '../native/addon.js';
import { meminfo } from '../../platform/live.js';

const PAGE = 4096;
const NO_FLAGS: AllocateFlags = Object.freeze({});
/** What the default CMA heap has been called (Documentation/userspace-api/dma-buf-heaps.rst). */
export const DEFAULT_CMA_NAMES: readonly string[] = ['reserved', 'linux,cma', 'default-pool', 'default_cma_region'];

export interface DmaHeapOptions {
  /** Where the heaps are (default /dev/dma_heap). */
  readonly dir?: string;
  /** Root of /proc and /sys (default /). */
  readonly root?: string;
  readonly addon?: NativeAddon;
}

interface OpenBuffer {
  readonly heap: string;
  readonly size: number;
}

export class DmaHeapBackend implements KernelBackend {
  readonly kind = 'dma-heap';
  readonly #dir: string;
  readonly #root: string;
  readonly #addon: NativeAddon;
  readonly #heapFds = new Map<string, number>();
  readonly #open = new Map<number, OpenBuffer>();

  constructor(options: DmaHeapOptions = {}) {
    this.#dir = options.dir ?? '/dev/dma_heap';
    this.#root = options.root ?? '/';
    this.#addon = options.addon ?? loadNative();
  }

  /** Names under /dev/dma_heap. */
  names(): string[] {
    try {
      return readdirSync(this.#dir).sort();
    } catch {
      return [];
    }
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
    return this.names().map((name) => ({ name, kind: this.kindOf(name), base: undefined, contiguous: this.kindOf(name) !== 'system', cpuAccess: true, path: join(this.#dir, name), ...this.heapStats(name) }));
  }

  heapStats(heap: string): HeapStats {
    const mem = meminfo(this.#root);
    // Bytes this process holds in the heap; summed on demand to keep allocate() and close() lean.
    let used = 0;
    for (const b of this.#open.values()) if (b.heap === heap) used += b.size;
    if (this.kindOf(heap) === 'system') {
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
      if (Number.isFinite(pages)) largestFree = pages * PAGE;
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
      fd = this.#addon.dmaHeapAlloc(heapFd, len, flags.fdFlags ?? O_RDWR | O_CLOEXEC, flags.heapFlags ?? 0);
    } catch (err) {
      // Written out rather than through syscall(): this is the per-buffer hot path.
      return syscall('DMA_HEAP_IOCTL_ALLOC', { heap }, () => {
        throw err;
      });
    }
    this.#open.set(fd, { heap, size: Math.ceil(len / PAGE) * PAGE });
    return fd;
  }

  dup(fd: number): number {
    const buf = this.#get(fd, 'dup');
    const copy = syscall('dup', { fd }, () => this.#addon.dup(fd));
    this.#open.set(copy, { heap: buf.heap, size: 0 }); // the size is counted once, on the first fd
    return copy;
  }

  close(fd: number): void {
    this.#get(fd, 'close');
    this.#open.delete(fd);
    try {
      this.#addon.close(fd);
    } catch (err) {
      syscall('close', { fd }, () => {
        throw err;
      });
    }
  }

  map(fd: number): Mapping {
    this.#get(fd, 'mmap');
    const size = dmaBufInfo(fd).size;
    const bytes = syscall('mmap', { fd }, () => this.#addon.mmap(fd, size, true));
    let mapped = true;
    return {
      bytes,
      unmap: () => {
        if (!mapped) throw new KernelError('munmap', 'EINVAL', { fd, detail: 'mapping already unmapped' });
        mapped = false;
        syscall('munmap', { fd }, () => this.#addon.munmap(bytes));
      },
    };
  }

  sync(fd: number, flags: number): void {
    this.#get(fd, 'DMA_BUF_IOCTL_SYNC');
    syscall('DMA_BUF_IOCTL_SYNC', { fd }, () => this.#addon.dmaBufSync(fd, flags));
  }

  setName(fd: number, name: string): void {
    this.#get(fd, 'DMA_BUF_SET_NAME');
    syscall('DMA_BUF_SET_NAME', { fd }, () => this.#addon.dmaBufSetName(fd, name));
  }

  info(fd: number): DmaBufInfo {
    this.#get(fd, 'fstat');
    return dmaBufInfo(fd, join(this.#root, 'proc'));
  }

  openFds(): number[] {
    return [...this.#open.keys()].sort((a, b) => a - b);
  }

  /** Closes the heap device fds (buffers stay owned by their holders). */
  dispose(): void {
    for (const fd of this.#heapFds.values()) closeSync(fd);
    this.#heapFds.clear();
  }

  #get(fd: number, op: string): OpenBuffer {
    const buf = this.#open.get(fd);
    // Only fds this backend made are touched: anything else would be someone else's file.
    if (!buf) throw new KernelError(op, 'EBADF', { fd, detail: 'not a dma-buf fd opened by this backend' });
    return buf;
  }
}
