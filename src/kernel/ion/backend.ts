// The legacy ION backend (Linux 4.12 to 5.10, /dev/ion; drivers/staging/android/ion/ion.c): heaps
// are discovered with ION_IOC_HEAP_QUERY and allocated with ION_IOC_ALLOC and a one-bit
// heap_id_mask; the result is a dma-buf fd like any other. No kernel reachable here has ION, so
// tests check the binding's compiled ABI against the recorded one and this logic against a stub.

import { closeSync, openSync } from 'node:fs';
import type { HeapKind } from '../../constraints/model.js';
import { O_CLOEXEC, O_RDWR, type AllocateFlags, type DmaBufInfo, type HeapInfo, type HeapStats, type KernelBackend, type Mapping } from '../backend.js';
import { KernelError } from '../errno.js';
import { dmaBufInfo } from '../fd-info.js';
import { loadNative, syscall, type NativeAddon } from '../native/addon.js';

/** enum ion_heap_type (ion.h, 4.12+). */
export const ION_HEAP_TYPE: Readonly<Record<number, { name: string; kind: HeapKind }>> = {
  0: { name: 'SYSTEM', kind: 'system' },
  1: { name: 'SYSTEM_CONTIG', kind: 'system-contig' },
  2: { name: 'CARVEOUT', kind: 'carveout' },
  3: { name: 'CHUNK', kind: 'carveout' },
  4: { name: 'DMA', kind: 'cma' },
};
export const ION_FLAG_CACHED = 1;
const PAGE = 4096;

export interface IonHeap {
  readonly name: string;
  readonly type: number;
  readonly heapId: number;
}

export class IonBackend implements KernelBackend {
  readonly kind = 'ion';
  readonly #addon: NativeAddon;
  readonly #ionFd: number;
  readonly #heaps: readonly IonHeap[];
  readonly #open = new Map<number, { heap: string; size: number }>();
  readonly #used = new Map<string, number>();

  constructor(options: { device?: string; addon?: NativeAddon; ionFd?: number } = {}) {
    this.#addon = options.addon ?? loadNative();
    this.#ionFd = options.ionFd ?? syscall('open', {}, () => openSync(options.device ?? '/dev/ion', O_RDWR | O_CLOEXEC));
    this.#heaps = syscall('ION_IOC_HEAP_QUERY', {}, () => this.#addon.ionHeapQuery(this.#ionFd));
  }

  /** heap_id_mask for a heap: one bit, 1 << heap_id (ION_NUM_HEAP_IDS = 32). */
  maskOf(heap: string): number {
    const h = this.#heaps.find((x) => x.name === heap);
    if (!h) throw new KernelError('ION_IOC_ALLOC', 'ENOENT', { heap, detail: `ION heaps: ${this.#heaps.map((x) => x.name).join(', ')}` });
    if (h.heapId >= 32) throw new KernelError('ION_IOC_ALLOC', 'EINVAL', { heap, detail: `heap_id ${h.heapId} is not below ION_NUM_HEAP_IDS` });
    return (1 << h.heapId) >>> 0;
  }

  heaps(): HeapInfo[] {
    return this.#heaps.map((h) => {
      const kind = ION_HEAP_TYPE[h.type]?.kind ?? 'carveout';
      return { name: h.name, kind, base: undefined, contiguous: kind !== 'system', cpuAccess: true, path: `/dev/ion heap ${h.heapId}`, ...this.heapStats(h.name) };
    });
  }

  heapStats(heap: string): HeapStats {
    const used = this.#used.get(heap) ?? 0;
    // ION publishes no capacities; only what this process holds is known.
    return { capacity: 0, used, free: 0, largestFree: 0 };
  }

  allocate(heap: string, len: number, flags: AllocateFlags = {}): number {
    const mask = this.maskOf(heap);
    const fd = syscall('ION_IOC_ALLOC', { heap }, () => this.#addon.ionAlloc(this.#ionFd, len, mask, flags.heapFlags ?? ION_FLAG_CACHED));
    const size = Math.ceil(len / PAGE) * PAGE;
    this.#open.set(fd, { heap, size });
    this.#used.set(heap, (this.#used.get(heap) ?? 0) + size);
    return fd;
  }

  dup(fd: number): number {
    const b = this.#get(fd, 'dup');
    const copy = syscall('dup', { fd }, () => this.#addon.dup(fd));
    this.#open.set(copy, { heap: b.heap, size: 0 });
    return copy;
  }

  close(fd: number): void {
    const b = this.#get(fd, 'close');
    this.#open.delete(fd);
    this.#used.set(b.heap, (this.#used.get(b.heap) ?? 0) - b.size);
    syscall('close', { fd }, () => closeSync(fd));
  }

  map(fd: number): Mapping {
    this.#get(fd, 'mmap');
    const bytes = syscall('mmap', { fd }, () => this.#addon.mmap(fd, dmaBufInfo(fd).size, true));
    let mapped = true;
    return {
      bytes,
      unmap: () => {
        if (!mapped) throw new KernelError('munmap', 'EINVAL', { fd });
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
    return dmaBufInfo(fd);
  }

  openFds(): number[] {
    return [...this.#open.keys()].sort((a, b) => a - b);
  }

  dispose(): void {
    closeSync(this.#ionFd);
  }

  #get(fd: number, op: string) {
    const b = this.#open.get(fd);
    if (!b) throw new KernelError(op, 'EBADF', { fd, detail: 'not a dma-buf fd opened by this backend' });
    return b;
  }
}
