// The dma-heap backend: Linux dma-buf heaps under /dev/dma_heap (drivers/dma-buf/dma-heap.c).
// Heaps are enumerated, never assumed: what each kernel generation calls them is in names.ts.

import { PAGE_SIZE } from '../../constraints/model.js';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { listDirectory } from '../../util/fs.js';
import { join } from 'node:path';
import type { Heap, HeapKind } from '../../constraints/model.js';
import { O_CLOEXEC, O_RDWR, type AllocateFlags, type HeapInfo, type HeapStats } from '../backend.js';
import { DmaBufFileBackend } from '../dma-buf-files.js';
import { kernelError, loadNative, syscall, type NativeAddon } from '../native/addon.js';
import { meminfo } from '../meminfo.js';
import { diagnoseCmaFailure } from '../../pools/diagnose.js';
import { DEFAULT_CMA_NAMES } from '../../constraints/heap-kinds/index.js';
import { DEFAULT_CMA_REGION, isProtectedHeap, poolsOf } from './names.js';

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
  /** The filesystem root the backend reads (/proc, /sys, /dev): "/" on a live system. */
  readonly root: string;
  readonly #heapFds = new Map<string, number>();

  constructor(options: DmaHeapOptions = {}) {
    const root = options.root ?? '/';
    super(options.addon ?? loadNative(), join(root, 'proc'));
    this.#dir = options.dir ?? '/dev/dma_heap';
    this.root = root;
  }

  /** Names under /dev/dma_heap. */
  names(): string[] {
    return listDirectory(this.#dir);
  }

  /**
   * system for "system*"; secure for the TEE's "protected,*" heaps; CMA when the kernel lists an
   * area of that name (/sys/kernel/mm/cma with CONFIG_CMA_SYSFS, or debugfs cma/), it is one of the
   * default CMA heap's names, or the device tree has a reusable reserved-memory node of that name.
   * Anything else is treated as non-contiguous, the safe guess: the solver then never gives it to a
   * device without an IOMMU.
   */
  kindOf(name: string): HeapKind {
    if (name === 'system' || name.startsWith('system')) return 'system';
    if (isProtectedHeap(name)) return 'secure';
    if (this.#areaDir(name) !== undefined || DEFAULT_CMA_NAMES.includes(name)) return 'cma';
    // From 6.17 every reusable shared-dma-pool node is a heap named after the node.
    if (existsSync(join(this.root, 'sys/firmware/devicetree/base/reserved-memory', name, 'reusable'))) return 'cma';
    return 'system';
  }

  /** Each pool once: Linux 6.17's legacy name of the default CMA area is an alias (names.ts). */
  heaps(): HeapInfo[] {
    return poolsOf(this.names()).map(({ name, aliases }) => {
      const kind = this.kindOf(name);
      // TEE protected memory comes from a restricted range or CMA, contiguous either way; the CPU cannot map it.
      return { name, kind, base: undefined, contiguous: kind !== 'system', cpuAccess: kind !== 'secure', path: join(this.#dir, name), ...(aliases.length > 0 ? { aliases } : {}), ...this.#stats(name, kind, aliases) };
    });
  }

  /**
   * The pool a heap name belongs to. Only the default CMA area has two names: other heaps need no
   * directory listing (heapStats is read on every negotiation against free space).
   */
  #poolOf(heap: string): { name: string; aliases: readonly string[] } {
    const pool = DEFAULT_CMA_NAMES.includes(heap) ? poolsOf(this.names()).find((p) => p.name === heap || p.aliases.includes(heap)) : undefined;
    return pool ?? { name: heap, aliases: [] };
  }

  heapStats(heap: string): HeapStats {
    const pool = this.#poolOf(heap);
    return this.#stats(pool.name, this.kindOf(heap), pool.aliases);
  }

  /** The CMA area's debugfs directory (mm/cma_debug.c: count, used, maxchunk in pages), if mounted. */
  #areaDir(name: string): string | undefined {
    return [join(this.root, 'sys/kernel/debug/cma', name), join(this.root, 'sys/kernel/mm/cma', name)].find((p) => existsSync(p));
  }

  /** The default area's own name (the one /sys/kernel/mm/cma lists): 6.17's default_cma_region is a heap name, not an area's. */
  #areaName(heap: string, aliases: readonly string[]): string {
    return heap === DEFAULT_CMA_REGION && aliases.length > 0 ? aliases[0]! : heap;
  }

  #stats(heap: string, kind: HeapKind, aliases: readonly string[] = []): HeapStats {
    const mem = meminfo(this.root);
    const used = this.usedBytes(heap) + aliases.reduce((sum, a) => sum + this.usedBytes(a), 0);
    if (kind === 'system') {
      const capacity = mem['MemTotal'] ?? 0;
      const free = mem['MemAvailable'] ?? Math.max(0, capacity - used);
      return { capacity, used, free, largestFree: free };
    }
    if (kind === 'secure') {
      // Nothing in /proc or /sys sizes a TEE's restricted pool: only what this process holds is known.
      return { capacity: 0, used, free: 0, largestFree: 0 };
    }
    // CMA, per area when debugfs is mounted (mm/cma_debug.c count, used and maxchunk, in pages);
    // else /proc/meminfo's totals, which are every area's together: exact only with one area.
    const debug = join(this.root, 'sys/kernel/debug/cma', this.#areaName(heap, aliases));
    const pages = (file: string): number | undefined => {
      try {
        const n = Number(readFileSync(join(debug, file), 'utf8'));
        return Number.isFinite(n) ? n * PAGE_SIZE : undefined;
      } catch {
        return undefined; // debugfs not mounted or not root
      }
    };
    const count = pages('count');
    const busy = pages('used');
    const capacity = count ?? mem['CmaTotal'] ?? 0;
    const free = count !== undefined && busy !== undefined ? count - busy : (mem['CmaFree'] ?? 0);
    return { capacity, used, free, largestFree: pages('maxchunk') ?? free };
  }

  outOfMemoryReport(heap: string, model: Heap, size: number, count: number): string[] {
    if (this.kindOf(heap) !== 'cma') return [];
    const pool = this.#poolOf(heap);
    return diagnoseCmaFailure(this.root, this.#areaName(pool.name, pool.aliases), model, size, count);
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
